/* A preload library for one CLI test: pread fails with EIO once the range asked for reaches byte
 * $HW_EIO_AT of the file, as a disk with a bad sector would, so the command's handling of a read
 * error in the middle of a trace is tested on the real binary. Never sanitized (meson.build).
 * No libc headers declare pread here: with _FILE_OFFSET_BITS=64 they rename pread to pread64,
 * and this file must define both symbols. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

typedef long (*pread_fn)(int, void*, size_t, long);

static long fail_or_read(const char* name, int fd, void* buf, size_t n, long offset) {
    const char* at = getenv("HW_EIO_AT");
    if (at != NULL && offset + (long)n > strtol(at, NULL, 10)) {
        errno = EIO;
        return -1;
    }
    /* ISO C has no cast from object to function pointer; POSIX guarantees this store works. */
    pread_fn real;
    *(void**)&real = dlsym(RTLD_NEXT, name);
    return real(fd, buf, n, offset);
}

long pread(int fd, void* buf, size_t n, long offset) { return fail_or_read("pread", fd, buf, n, offset); }
long pread64(int fd, void* buf, size_t n, long offset) { return fail_or_read("pread64", fd, buf, n, offset); }

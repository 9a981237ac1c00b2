// Interposed process-level functions: the exec family (flush the trace, End kExec, before the
// image is replaced: glibc's execvp & co. call execve internally, not through the PLT, so each is
// covered), _exit/_Exit and abort (flush first), dlclose (module map and stack generation), and
// pthread_setname_np (thread names). They forward to the next definition in lookup order.
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <unistd.h>

#include "lifecycle.hpp"
#include "real.hpp"
#include "tracer.hpp"

#define HW_EXPORT extern "C" __attribute__((visibility("default")))

namespace hp = heapwise::preload;

namespace {
inline void need_real() noexcept {
    if (!hp::real_ready()) hp::ensure_real_slow();
}
constexpr int kMaxExeclArgs = 4096;
}  // namespace

HW_EXPORT int execve(const char* path, char* const argv[], char* const envp[]) {
    need_real();
    hp::before_exec();
    const int rc = hp::real.execve(path, argv, envp);
    hp::after_failed_exec();
    return rc;
}

HW_EXPORT int execv(const char* path, char* const argv[]) { return execve(path, argv, environ); }

HW_EXPORT int execvp(const char* file, char* const argv[]) {
    need_real();
    hp::before_exec();
    const int rc = hp::real.execvp(file, argv);
    hp::after_failed_exec();
    return rc;
}

HW_EXPORT int execvpe(const char* file, char* const argv[], char* const envp[]) {
    need_real();
    hp::before_exec();
    const int rc = hp::real.execvpe(file, argv, envp);
    hp::after_failed_exec();
    return rc;
}

HW_EXPORT int fexecve(int fd, char* const argv[], char* const envp[]) {
    need_real();
    hp::before_exec();
    const int rc = hp::real.fexecve(fd, argv, envp);
    hp::after_failed_exec();
    return rc;
}

// The execl forms gather their arguments into an array on the stack (as glibc does).
#define HW_GATHER_ARGS(first, argv, extra)                          \
    char* argv[kMaxExeclArgs + 1];                                  \
    int argc = 0;                                                   \
    {                                                               \
        va_list ap;                                                 \
        va_start(ap, first);                                        \
        argv[argc++] = const_cast<char*>(first);                    \
        while (argc < kMaxExeclArgs) {                              \
            char* a = va_arg(ap, char*);                            \
            argv[argc++] = a;                                       \
            if (a == nullptr) break;                                \
        }                                                           \
        argv[kMaxExeclArgs] = nullptr;                              \
        extra;                                                      \
        va_end(ap);                                                 \
    }

HW_EXPORT int execl(const char* path, const char* arg, ...) {
    HW_GATHER_ARGS(arg, argv, (void)0)
    return execve(path, argv, environ);
}

HW_EXPORT int execlp(const char* file, const char* arg, ...) {
    HW_GATHER_ARGS(arg, argv, (void)0)
    return execvp(file, argv);
}

HW_EXPORT int execle(const char* path, const char* arg, ...) {
    char* const* envp = nullptr;
    HW_GATHER_ARGS(arg, argv, envp = va_arg(ap, char* const*))
    return execve(path, argv, envp);
}

HW_EXPORT void _exit(int status) {
    need_real();
    hp::before_exit();
    hp::real.exit_now(status);
    __builtin_unreachable();
}

HW_EXPORT void _Exit(int status) { _exit(status); }

HW_EXPORT void abort(void) {
    need_real();
    hp::before_abort();
    hp::real.abort();
    __builtin_unreachable();
}

HW_EXPORT int dlclose(void* handle) {
    need_real();
    hp::Tracer::modules_changing();
    const int rc = hp::real.dlclose(handle);
    hp::Tracer::modules_changed();
    return rc;
}

HW_EXPORT int pthread_setname_np(pthread_t thread, const char* name) {
    need_real();
    const int rc = hp::real.pthread_setname_np(thread, name);
    if (rc == 0) hp::Tracer::thread_named(thread, name);
    return rc;
}

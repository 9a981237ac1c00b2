/* Loads the library given as argv[1], allocates 5 blocks of 2222 bytes through it, frees 2
 * through it, unloads it (and checks that it is gone), marks "after-dlclose" and allocates one
 * block of 3333 bytes itself. Prints the library's executable segments ("lib 0xLO 0xHI"), the
 * blocks ("ptr lib 0x..."), "unloaded 1" and the marker's return value. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>

#include <heapwise/heapwise.h>

#include "report.h"

static const char* lib_path;

static int report_lib(struct dl_phdr_info* info, size_t size, void* data) {
    (void)size;
    (void)data;
    if (info->dlpi_name == NULL || strstr(info->dlpi_name, "e2e_dlib") == NULL) return 0;
    for (int i = 0; i < info->dlpi_phnum; ++i) {
        const ElfW(Phdr)* ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
            const char* lo = (const char*)(info->dlpi_addr + ph->p_vaddr);
            report_line("lib %p %p", (const void*)lo, (const void*)(lo + ph->p_memsz));
        }
    }
    return 1;
}

int main(int argc, char** argv) {
    if (argc != 2) return 2;
    lib_path = argv[1];
    void* h = dlopen(lib_path, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        report_line("error dlopen %s", dlerror());
        return 3;
    }
    void* (*lib_alloc)(size_t) = (void* (*)(size_t))report_sym(h, "dl_lib_alloc");
    void (*lib_free)(void*) = (void (*)(void*))report_sym(h, "dl_lib_free");
    if (lib_alloc == NULL || lib_free == NULL) return 4;
    dl_iterate_phdr(report_lib, NULL);
    void* b[5];
    for (int i = 0; i < 5; ++i) b[i] = lib_alloc(2222);
    lib_free(b[0]);
    lib_free(b[1]);
    if (dlclose(h) != 0) return 5;
    report_line("unloaded %d", dlopen(lib_path, RTLD_NOW | RTLD_NOLOAD) == NULL);
    report_line("marker %d", heapwise_snapshot("after-dlclose"));
    void* own = malloc(3333);
    for (int i = 0; i < 5; ++i) report_ptr("lib", b[i]);
    report_ptr("own", own);
    return 0;
}

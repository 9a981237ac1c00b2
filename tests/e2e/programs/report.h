/* Facts a test program prints about itself, one per line, for tests/e2e/facts.hpp to parse:
 * "range NAME 0xLO 0xHI" (a function's code, from its dynamic symbol: link with export_dynamic),
 * "exe 0xLO 0xHI" (each executable segment of the main program), "ptr NAME 0xADDR".
 * Each line is written with one write(2) so forked children and threads never interleave. */
#ifndef HEAPWISE_E2E_REPORT_H
#define HEAPWISE_E2E_REPORT_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline void report_line(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void report_line(const char* fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (n > (int)sizeof buf - 2) n = (int)sizeof buf - 2;
    buf[n++] = '\n';
    if (write(1, buf, (size_t)n) != n) _exit(90);
}

/* 0x0 for NULL (glibc's %p would print "(nil)"). */
static inline void report_ptr(const char* name, const void* p) {
    report_line("ptr %s 0x%lx", name, (unsigned long)(uintptr_t)p);
}

typedef void (*report_fn)(void);

/* fn: any function, cast to report_fn (the generic function pointer type). */
static inline void report_range(const char* name, report_fn fn) {
    void* addr;
    memcpy(&addr, &fn, sizeof addr);
    Dl_info info;
    const ElfW(Sym)* sym = NULL;
    if (dladdr1(addr, &info, (void**)&sym, RTLD_DL_SYMENT) == 0 || sym == NULL || info.dli_saddr == NULL) {
        report_line("error no symbol for %s", name);
        _exit(91);
    }
    const char* lo = (const char*)info.dli_saddr;
    report_line("range %s %p %p", name, (const void*)lo, (const void*)(lo + sym->st_size));
}

/* The function pointer dlsym found, as a function pointer (no object-to-function cast). */
static inline report_fn report_sym(void* handle, const char* name) {
    void* sym = dlsym(handle, name);
    report_fn fn;
    memcpy(&fn, &sym, sizeof fn);
    return fn;
}

static inline int report_exe_phdr(struct dl_phdr_info* info, size_t size, void* data) {
    (void)size;
    (void)data;
    for (int i = 0; i < info->dlpi_phnum; ++i) {
        const ElfW(Phdr)* ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
            const char* lo = (const char*)(info->dlpi_addr + ph->p_vaddr);
            report_line("exe %p %p", (const void*)lo, (const void*)(lo + ph->p_memsz));
        }
    }
    return 1; /* the first object is the main program */
}

static inline void report_exe(void) { dl_iterate_phdr(report_exe_phdr, NULL); }

#endif

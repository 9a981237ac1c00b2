// Allocates from every place that runs outside main: a C constructor (31339 bytes), a C++ global's
// constructor (31337) and destructor (31338), an atexit handler (31340) and a C destructor (31341).
// Exits 0 after printing "main ok"; the test checks it neither crashes nor hangs under the tracer.
#include <cstdlib>

#include "report.h"

namespace {

void* volatile sink;

struct Global {
    Global() { block = std::malloc(31337); }
    ~Global() {
        std::free(block);
        sink = std::malloc(31338);
        std::free(sink);
    }
    void* block = nullptr;
};
Global global;

void at_exit_handler() {
    sink = std::malloc(31340);
    std::free(sink);
}

}  // namespace

__attribute__((constructor)) static void c_constructor() { sink = std::malloc(31339); }

__attribute__((destructor)) static void c_destructor() {
    void* p = std::malloc(31341);
    std::free(p);
}

int main() {
    std::atexit(at_exit_handler);
    report_line("main ok");
    return 0;
}

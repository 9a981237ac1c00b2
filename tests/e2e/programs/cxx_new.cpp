// Calls every form of C++ operator new and delete (plain, array, nothrow, aligned, aligned
// nothrow, sized delete, aligned sized delete) from one function, do_news(), with sizes that are
// multiples of their alignment so the bytes the tracer records are exact whichever way libstdc++
// reaches the allocator. Prints what each returned; frees all but "leak_*".
#include <cstddef>
#include <cstdint>
#include <new>

#include "report.h"

namespace {

constexpr int kMax = 32;
const char* names[kMax];
void* ptrs[kMax];
int nptrs = 0;

void keep(const char* name, void* p) {
    names[nptrs] = name;
    ptrs[nptrs++] = p;
}

struct Plain {
    char bytes[1100];
};
struct alignas(64) Wide {
    char bytes[1408];  // 22 x 64
};
static_assert(sizeof(Wide) == 1408);

}  // namespace

extern "C" __attribute__((noinline)) void do_news() {
    auto* plain = new Plain;  // operator new(1100); delete below is sized
    keep("new", plain);
    auto* array = new char[1200];
    keep("new_array", array);
    auto* nothrow = new (std::nothrow) char[1300];
    keep("new_array_nothrow", nothrow);
    void* nothrow1 = ::operator new(1350, std::nothrow);
    keep("new_nothrow", nothrow1);
    auto* wide = new Wide;  // operator new(1408, align_val_t{64})
    keep("new_aligned", wide);
    auto* wides = new Wide[2];  // operator new[](2816, align_val_t{64}): trivial, no cookie
    keep("new_array_aligned", wides);
    void* an = ::operator new(1536, std::align_val_t{128}, std::nothrow);
    keep("new_aligned_nothrow", an);
    void* ana = ::operator new[](1664, std::align_val_t{128}, std::nothrow);
    keep("new_array_aligned_nothrow", ana);
    void* sized = ::operator new(1500);
    keep("new_for_sized_delete", sized);
    void* sized_array = ::operator new[](1600);
    keep("new_array_for_sized_delete", sized_array);
    auto* leaked = new Plain;
    keep("leak_new", leaked);

    delete plain;  // sized: operator delete(void*, 1100)
    delete[] array;
    delete[] nothrow;
    ::operator delete(nothrow1, std::nothrow);
    delete wide;     // operator delete(void*, 1408, align_val_t{64})
    delete[] wides;  // operator delete[](void*, align_val_t{64})
    ::operator delete(an, std::align_val_t{128}, std::nothrow);
    ::operator delete[](ana, 1664, std::align_val_t{128});
    ::operator delete(sized, 1500);
    ::operator delete[](sized_array, 1600);
}

int main() {
    report_exe();
    report_range("do_news", reinterpret_cast<report_fn>(&do_news));
    do_news();
    for (int i = 0; i < nptrs; ++i) report_ptr(names[i], ptrs[i]);
    return 0;
}

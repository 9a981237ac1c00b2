/* Symbol visibility for libheapwise.so: the library is built with -fvisibility=hidden and marks
 * its public entry points with HEAPWISE_API. C and C++ compatible. */
#ifndef HEAPWISE_EXPORT_H
#define HEAPWISE_EXPORT_H

#if defined(HEAPWISE_BUILDING_API)
#define HEAPWISE_API __attribute__((visibility("default")))
#else
#define HEAPWISE_API
#endif

#endif

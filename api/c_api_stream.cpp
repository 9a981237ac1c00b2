// The C ABI of heapwise::read_chunks: a reader handle that hands out one chunk at a time from the
// library's single buffer, so a binding (Python's stream_large_file) streams a file of any size in
// bounded memory with the library's page-cache advice.
#include <optional>
#include <span>

#include "capi_guard.hpp"
#include "heapwise/heapwise.h"
#include "heapwise/stream.hpp"

struct heapwise_reader {
    heapwise_reader(const char* path, std::size_t size)
        : reader(heapwise::read_chunks(path, size)) {}
    heapwise::ChunkReader reader;
    std::optional<heapwise::ChunkReader::iterator> it;  // engaged after the first chunk
};

using heapwise::api::guarded;

extern "C" {

HEAPWISE_API heapwise_status heapwise_reader_open(const char* path, size_t chunk_size,
                                                  heapwise_reader_t** out) {
    constexpr const char* what = "heapwise_reader_open";
    HW_CAPI_REQUIRE(out != nullptr, what);
    *out = nullptr;
    HW_CAPI_REQUIRE(path != nullptr && chunk_size > 0, what);
    return guarded(what, [&] {
        *out = new heapwise_reader(path, chunk_size);
        return HEAPWISE_OK;
    });
}

HEAPWISE_API heapwise_status heapwise_reader_next(heapwise_reader_t* reader, const void** data,
                                                  size_t* len) {
    constexpr const char* what = "heapwise_reader_next";
    HW_CAPI_REQUIRE(reader != nullptr && data != nullptr && len != nullptr, what);
    *data = nullptr;
    *len = 0;
    return guarded(what, [&] {
        if (!reader->it) {
            reader->it = reader->reader.begin();
        } else if (!reader->it->at_end()) {
            ++*reader->it;
        }
        if (reader->it->at_end()) return HEAPWISE_OK;
        const std::span<const std::byte> chunk = **reader->it;
        *data = chunk.data();
        *len = chunk.size();
        return HEAPWISE_OK;
    });
}

HEAPWISE_API heapwise_status heapwise_reader_progress(heapwise_reader_t* reader,
                                                      uint64_t* bytes_read, uint64_t* dropped) {
    HW_CAPI_REQUIRE(reader != nullptr, "heapwise_reader_progress");
    if (bytes_read != nullptr) *bytes_read = reader->reader.bytes_read();
    if (dropped != nullptr) *dropped = reader->reader.bytes_dropped();
    return HEAPWISE_OK;
}

HEAPWISE_API void heapwise_reader_close(heapwise_reader_t* reader) {
    (void)guarded("heapwise_reader_close", [&] {
        delete reader;
        return HEAPWISE_OK;
    });
}

}  // extern "C"

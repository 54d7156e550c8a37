#include "bmff_box.hpp"

#include <cstring>

#include "byte_order.hpp"

namespace veil::exif_strip::bmff {

Box parse_box(ByteView data, std::size_t at, std::size_t end, std::string_view where) {
    const auto truncated = [&](const char* what) {
        return FormatError("truncated BMFF: " + std::string(what) + " in " + std::string(where));
    };
    if (end - at < 8) throw truncated("partial box header");
    Box box;
    box.offset = at;
    box.type = std::string_view(reinterpret_cast<const char*>(&data[at + 4]), 4);
    std::uint64_t size = detail::load_be32(&data[at]);
    box.header_size = 8;
    if (size == 1) {
        if (end - at < 16) throw truncated("partial 64-bit box size");
        size = (std::uint64_t{detail::load_be32(&data[at + 8])} << 32) | detail::load_be32(&data[at + 12]);
        box.header_size = 16;
    } else if (size == 0) {
        size = end - at;  // "to the end of the file" (or of its container)
    }
    if (box.type == "uuid") box.header_size += 16;
    if (size < box.header_size) throw FormatError("BMFF: box '" + std::string(box.type) + "' smaller than its header in " + std::string(where));
    if (size > end - at) throw truncated(("box '" + std::string(box.type) + "' runs past its end").c_str());
    box.size = static_cast<std::size_t>(size);
    return box;
}

FullBox parse_full_box(ByteView data, const Box& box) {
    if (box.payload_size() < 4) throw FormatError("BMFF: full box '" + std::string(box.type) + "' shorter than its version");
    const std::size_t p = box.payload_offset();
    return FullBox{data[p], (std::uint32_t{data[p + 1]} << 16) | (std::uint32_t{data[p + 2]} << 8) | data[p + 3], p + 4};
}

std::uint64_t Reader::read(std::size_t bytes) {
    if (bytes > left()) throw FormatError("truncated BMFF: " + std::string(where_));
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < bytes; ++i) v = (v << 8) | data_[pos_ + i];
    pos_ += bytes;
    return v;
}

void Reader::skip(std::size_t bytes) {
    if (bytes > left()) throw FormatError("truncated BMFF: " + std::string(where_));
    pos_ += bytes;
}

std::string_view Reader::read_cstring() {
    const auto* begin = data_.data() + pos_;
    const void* nul = std::memchr(begin, 0, left());
    if (nul == nullptr) throw FormatError("BMFF: unterminated string in " + std::string(where_));
    const auto n = static_cast<std::size_t>(static_cast<const std::uint8_t*>(nul) - begin);
    pos_ += n + 1;
    return {reinterpret_cast<const char*>(begin), n};
}

MediaData::MediaData(ByteView file) {
    for_each_box(file, 0, file.size(), "the file", [&](const Box& b) {
        if (b.type == "mdat") payloads_.emplace_back(b.payload_offset(), b.end());
    });
}

bool MediaData::holds(std::uint64_t begin, std::uint64_t length, std::uint64_t& steps) const {
    // The last payload starting at or before `begin` is the only one that can hold the range.
    auto lo = payloads_.begin(), hi = payloads_.end();
    while (lo != hi) {
        ++steps;
        const auto mid = lo + (hi - lo) / 2;
        if (mid->first <= begin) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo == payloads_.begin()) return false;
    const auto& [first, end] = *(lo - 1);
    return begin >= first && begin <= end && length <= end - begin;
}

Zeroer::Zeroer(ByteView in, StripResult& out) : in_(in), out_(out), media_(in), budget_(in.size()) {}

void Zeroer::charge(std::uint64_t size) {
    ++steps_;
    constexpr std::uint64_t per_range = 4;
    if (size > budget_ || budget_ - size < per_range) throw FormatError("BMFF: metadata ranges overlap (more to zero than the file holds)");
    budget_ -= size + per_range;
}

void Zeroer::check(std::uint64_t at, std::uint64_t size) {
    if (at > in_.size() || size > in_.size() - at) throw FormatError("truncated BMFF: metadata past the end of the file");
    if (!media_.holds(at, size, steps_)) throw FormatError("BMFF: metadata to remove lies outside mdat");
    charge(size);
}

void Zeroer::zero(std::uint64_t at, std::uint64_t size) {
    check(at, size);
    std::memset(&out_.bytes[static_cast<std::size_t>(at)], 0, static_cast<std::size_t>(size));
}

void append_be(Bytes& out, std::uint64_t v, std::size_t bytes) {
    for (std::size_t i = bytes; i-- > 0;) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

void neutralise(Bytes& buffer, const Box& box) {
    std::uint8_t* p = buffer.data() + box.offset;
    std::memcpy(p + 4, "free", 4);
    const std::size_t header = box.type == "uuid" ? box.header_size - 16 : box.header_size;
    std::memset(p + header, 0, box.size - header);
}

}  // namespace veil::exif_strip::bmff

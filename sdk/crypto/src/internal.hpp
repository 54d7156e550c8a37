#pragma once
// Helpers shared by the sources of libveil-crypto (not installed).

#include <algorithm>
#include <span>
#include <string>
#include <utility>

#include "veil/crypto/error.hpp"
#include "veil/crypto/keys.hpp"
#include "veil/crypto/secret_bytes.hpp"
#include "veil/wire/codec.hpp"

namespace veil::crypto::detail {

// Runs a decoder body, turning wire::DecodeError into Error{malformed} that names the structure.
template <class F>
auto decoding(const char* what, F&& body) {
    try {
        return std::forward<F>(body)();
    } catch (const wire::DecodeError& e) {
        throw Error(ErrorKind::malformed, std::string(what) + ": " + e.what());
    }
}

inline PublicKey read_key(wire::Reader& r) {
    PublicKey k{};
    auto b = r.raw(k.size());
    std::copy(b.begin(), b.end(), k.begin());
    return k;
}

inline Signature read_signature(wire::Reader& r) {
    Signature s{};
    auto b = r.raw(s.size());
    std::copy(b.begin(), b.end(), s.begin());
    return s;
}

inline void expect_version(wire::Reader& r, std::uint8_t expected, const char* what) {
    auto v = r.u8();
    if (v != expected) {
        throw Error(ErrorKind::malformed, std::string(what) + ": unsupported version " +
                                              std::to_string(v));
    }
}

// Like expect_version for the structures that protocol v2 changed (identities bound into X3DH,
// issue 14): an older version is refused with that reason, so a peer or a stored state from
// before the change is told apart from damage.
inline void expect_bound_version(wire::Reader& r, std::uint8_t expected, const char* what) {
    auto v = r.u8();
    if (v != 0 && v < expected) {
        throw Error(ErrorKind::malformed, std::string(what) + ": version " + std::to_string(v) +
                                              " predates identity binding (protocol v2) and is no "
                                              "longer accepted");
    }
    if (v != expected) {
        throw Error(ErrorKind::malformed, std::string(what) + ": unsupported version " + std::to_string(v));
    }
}

// Signed bytes start with a label so a signature of one structure never verifies as another.
inline wire::Writer signed_writer(std::string_view label) {
    wire::Writer w;
    w.str(label);
    return w;
}

}  // namespace veil::crypto::detail

namespace veil::crypto::detail {

// HKDF-SHA256 into a caller buffer (stack state, wiped): the hot path of the ratchet avoids a
// guarded allocation per message.
void hkdf_into(ByteView ikm, ByteView salt, ByteView info, std::span<std::uint8_t> out);

// Writes into pre-sized guarded memory so serialized secrets never touch the normal heap.
class SecretWriter final {
public:
    explicit SecretWriter(SecretBytes& out) : out_(out) {}
    SecretWriter& raw(ByteView b) {
        if (b.size() > out_.size() - pos_) throw Error(ErrorKind::invalid_argument, "secret writer overflow");
        std::copy(b.begin(), b.end(), out_.data() + pos_);
        pos_ += b.size();
        return *this;
    }
    SecretWriter& u8(std::uint8_t v) { return raw(ByteView{&v, 1}); }
    SecretWriter& u32(std::uint32_t v) {
        std::uint8_t b[4] = {std::uint8_t(v >> 24), std::uint8_t(v >> 16), std::uint8_t(v >> 8), std::uint8_t(v)};
        return raw(b);
    }
    SecretWriter& u64(std::uint64_t v) { return u32(std::uint32_t(v >> 32)).u32(std::uint32_t(v)); }
    SecretWriter& var(ByteView b) { return u32(static_cast<std::uint32_t>(b.size())).raw(b); }
    [[nodiscard]] std::size_t written() const { return pos_; }

private:
    SecretBytes& out_;
    std::size_t pos_ = 0;
};

}  // namespace veil::crypto::detail

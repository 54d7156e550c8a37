#include "veil/crypto/secret_bytes.hpp"

#include <sodium.h>

#include <new>
#include <utility>

#include "veil/crypto/error.hpp"

namespace veil::crypto {

void ensure_sodium() {
    static const bool ok = sodium_init() >= 0;
    if (!ok) throw Error(ErrorKind::invalid_argument, "libsodium failed to initialise");
}

SecretBytes::SecretBytes(std::size_t n) {
    ensure_sodium();
    if (n == 0) return;
    ptr_ = static_cast<std::uint8_t*>(sodium_malloc(n));
    if (ptr_ == nullptr) throw std::bad_alloc();
    size_ = n;
    sodium_memzero(ptr_, n);
}

SecretBytes SecretBytes::random(std::size_t n) {
    SecretBytes s(n);
    if (n != 0) randombytes_buf(s.ptr_, n);
    return s;
}

SecretBytes SecretBytes::copy_of(ByteView b) {
    SecretBytes s(b.size());
    if (!b.empty()) std::copy(b.begin(), b.end(), s.ptr_);
    return s;
}

SecretBytes SecretBytes::copy_of(std::string_view str) {
    return copy_of(ByteView{reinterpret_cast<const std::uint8_t*>(str.data()), str.size()});
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : ptr_(std::exchange(other.ptr_, nullptr)), size_(std::exchange(other.size_, 0)) {}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
    if (this != &other) {
        if (ptr_ != nullptr) sodium_free(ptr_);
        ptr_ = std::exchange(other.ptr_, nullptr);
        size_ = std::exchange(other.size_, 0);
    }
    return *this;
}

// sodium_free wipes the buffer before unmapping it.
SecretBytes::~SecretBytes() {
    if (ptr_ != nullptr) sodium_free(ptr_);
}

SecretBytes SecretBytes::clone() const { return copy_of(view()); }

bool SecretBytes::equals(ByteView b) const {
    if (b.size() != size_) return false;
    if (size_ == 0) return true;
    return sodium_memcmp(ptr_, b.data(), size_) == 0;
}

}  // namespace veil::crypto

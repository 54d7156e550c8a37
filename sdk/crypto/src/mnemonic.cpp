#include "veil/crypto/mnemonic.hpp"

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <vector>

#include "veil/crypto/error.hpp"

namespace veil::crypto {
namespace detail {
extern const char* const bip39_english[2048];  // generated from data/bip39_english.txt
}

namespace {

bool bit_at(const std::uint8_t* buf, std::size_t i) { return (buf[i / 8] >> (7 - i % 8)) & 1; }

void set_bit(std::uint8_t* buf, std::size_t i) {
    buf[i / 8] = static_cast<std::uint8_t>(buf[i / 8] | (1 << (7 - i % 8)));
}

// Case-insensitive comparison of a typed word with a list word (lower-case ASCII).
int compare_word(std::string_view typed, std::string_view listed) {
    std::size_t n = std::min(typed.size(), listed.size());
    for (std::size_t i = 0; i < n; ++i) {
        int a = std::tolower(static_cast<unsigned char>(typed[i]));
        int b = static_cast<unsigned char>(listed[i]);
        if (a != b) return a < b ? -1 : 1;
    }
    if (typed.size() == listed.size()) return 0;
    return typed.size() < listed.size() ? -1 : 1;
}

int word_index(std::string_view typed) {
    int lo = 0;
    int hi = 2047;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int c = compare_word(typed, detail::bip39_english[mid]);
        if (c == 0) return mid;
        if (c < 0) hi = mid - 1;
        else lo = mid + 1;
    }
    return -1;
}

std::vector<std::string_view> split_words(std::string_view phrase) {
    std::vector<std::string_view> words;
    std::size_t i = 0;
    while (i < phrase.size()) {
        while (i < phrase.size() && std::isspace(static_cast<unsigned char>(phrase[i]))) ++i;
        std::size_t start = i;
        while (i < phrase.size() && !std::isspace(static_cast<unsigned char>(phrase[i]))) ++i;
        if (i > start) words.push_back(phrase.substr(start, i - start));
    }
    return words;
}

}  // namespace

std::string_view bip39_word(std::size_t index) {
    if (index >= 2048) throw Error(ErrorKind::invalid_argument, "BIP-39 word index out of range");
    return detail::bip39_english[index];
}

SecretBytes entropy_to_phrase(ByteView entropy) {
    ensure_sodium();
    std::size_t ent = entropy.size();
    if (ent < 16 || ent > 32 || ent % 4 != 0) {
        throw Error(ErrorKind::invalid_argument, "BIP-39 entropy must be 16..32 bytes in steps of 4");
    }
    // Bits: entropy || first ENT/32 bits of SHA-256(entropy).
    SecretBytes bits(ent + 1);
    std::copy(entropy.begin(), entropy.end(), bits.data());
    SecretBytes hash(crypto_hash_sha256_BYTES);
    crypto_hash_sha256(hash.data(), entropy.data(), ent);
    bits.data()[ent] = hash.data()[0];
    std::size_t words = (ent * 8 + ent / 4) / 11;
    std::size_t length = 0;
    for (std::size_t w = 0; w < words; ++w) {
        std::size_t idx = 0;
        for (std::size_t b = 0; b < 11; ++b) idx = idx << 1 | (bit_at(bits.data(), w * 11 + b) ? 1 : 0);
        length += std::string_view(detail::bip39_english[idx]).size() + (w ? 1 : 0);
    }
    SecretBytes out(length);
    std::size_t pos = 0;
    for (std::size_t w = 0; w < words; ++w) {
        std::size_t idx = 0;
        for (std::size_t b = 0; b < 11; ++b) idx = idx << 1 | (bit_at(bits.data(), w * 11 + b) ? 1 : 0);
        if (w) out.data()[pos++] = ' ';
        std::string_view word = detail::bip39_english[idx];
        std::copy(word.begin(), word.end(), out.data() + pos);
        pos += word.size();
    }
    return out;
}

SecretBytes phrase_to_entropy(std::string_view phrase) {
    ensure_sodium();
    auto words = split_words(phrase);
    std::size_t count = words.size();
    if (count < 12 || count > 24 || count % 3 != 0) {
        throw Error(ErrorKind::invalid_phrase, "a recovery phrase has 12 to 24 words in steps of 3 "
                                               "(Veil uses 24), got " + std::to_string(count));
    }
    std::size_t total_bits = count * 11;
    std::size_t cs = total_bits / 33;
    std::size_t ent = (total_bits - cs) / 8;
    SecretBytes bits(ent + 1);
    for (std::size_t w = 0; w < count; ++w) {
        int idx = word_index(words[w]);
        if (idx < 0) {
            throw Error(ErrorKind::invalid_phrase, "word " + std::to_string(w + 1) + " (\"" +
                                                       std::string(words[w].substr(0, 16)) +
                                                       "\") is not in the BIP-39 English list");
        }
        for (std::size_t b = 0; b < 11; ++b) {
            if ((idx >> (10 - b)) & 1) set_bit(bits.data(), w * 11 + b);
        }
    }
    SecretBytes hash(crypto_hash_sha256_BYTES);
    crypto_hash_sha256(hash.data(), bits.data(), ent);
    std::uint8_t mask = static_cast<std::uint8_t>(0xff << (8 - cs));
    if ((hash.data()[0] & mask) != (bits.data()[ent] & mask)) {
        throw Error(ErrorKind::invalid_phrase,
                    "checksum mismatch: a word is wrong or out of place (word " +
                        std::to_string(count) + ", the last, carries the checksum)");
    }
    return SecretBytes::copy_of(ByteView{bits.data(), ent});
}

}  // namespace veil::crypto

#include "veil/proto/admission.hpp"

namespace veil::proto {

wire::Bytes challenge_message(const PublicKey& authority, const Hash& nonce, std::string_view host,
                              std::uint16_t port) {
    wire::Writer w;
    w.raw(wire::ByteView(reinterpret_cast<const std::uint8_t*>(kChallengeDomain.data()), kChallengeDomain.size()));
    return w.raw(authority).raw(nonce).str(host).u16(port).take();
}

}  // namespace veil::proto

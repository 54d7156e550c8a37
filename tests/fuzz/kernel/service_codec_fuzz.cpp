// Service request/response decoders on arbitrary bytes: errors are values, and whatever
// decodes re-encodes to the same bytes.
#include <cstdlib>

#include "veil/sdk/transport.hpp"

namespace tr = veil::sdk::transport;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    veil::wire::ByteView in(data, size);
    if (auto r = tr::decode_service_request(in, 1024); r.ok()) {
        auto again = tr::encode_service_request(r.value().service, r.value().body);
        if (again != veil::wire::Bytes(data, data + size)) std::abort();
    }
    // The peek agrees with the full decoder on every request it decodes.
    auto peek = tr::peek_service(in);
    if (peek.state == tr::ServicePeek::State::named && peek.service.size() > tr::kMaxServiceName) std::abort();
    if (auto r = tr::decode_service_request(in, 1024); r.ok()) {
        if (peek.state != tr::ServicePeek::State::named || peek.service != r.value().service) std::abort();
    }
    if (auto r = tr::decode_service_response(in, 1024); r.ok()) {
        auto again = tr::encode_service_response(r.value());
        if (again != veil::wire::Bytes(data, data + size)) std::abort();
    }
    return 0;
}

// Fuzzes the directory's formats: the signed manifest envelope (with verification against a fixed
// authority), the signed node descriptor, and the directory RPC request and responses.
#include "veil/proto/directory_rpc.hpp"
#include "veil/proto/manifest.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    veil::wire::ByteView in(data, size);
    static const veil::proto::ManifestVerifier verifier({veil::proto::PublicKey{1}}, 1);
    try {
        auto m = veil::proto::decode_signed_manifest(in);
        (void)verifier.check(m);
        (void)m.manifest.swarm_ids();
        (void)m.manifest.swarm_for(veil::proto::PublicKey{});
    } catch (const veil::wire::DecodeError&) {
    }
    try {
        (void)veil::proto::decode_verified_descriptor(in);
    } catch (const veil::wire::DecodeError&) {
    }
    try {
        (void)veil::proto::decode_directory_request(in);
    } catch (const veil::wire::DecodeError&) {
    }
    for (auto kind : {veil::proto::DirectoryKind::register_node, veil::proto::DirectoryKind::get_manifest}) {
        try {
            (void)veil::proto::decode_directory_response(kind, in);
        } catch (const veil::wire::DecodeError&) {
        }
    }
    return 0;
}

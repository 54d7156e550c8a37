// Fuzzes the directory's formats: the signed manifest envelope (with verification against a fixed
// authority), the signed node descriptor, and the directory RPC request and responses.
#include "directory/directory_rpc.hpp"
#include "directory/manifest.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    veil::wire::ByteView in(data, size);
    static const veil::directory::ManifestVerifier verifier({veil::directory::PublicKey{1}}, 1);
    try {
        auto m = veil::directory::decode_signed_manifest(in);
        (void)verifier.check(m);
        (void)m.manifest.swarm_ids();
        (void)m.manifest.swarm_for(veil::directory::PublicKey{});
    } catch (const veil::wire::DecodeError&) {
    }
    try {
        (void)veil::directory::decode_verified_descriptor(in);
    } catch (const veil::wire::DecodeError&) {
    }
    try {
        (void)veil::directory::decode_directory_request(in);
    } catch (const veil::wire::DecodeError&) {
    }
    for (auto kind : {veil::directory::DirectoryKind::register_node, veil::directory::DirectoryKind::get_manifest}) {
        try {
            (void)veil::directory::decode_directory_response(kind, in);
        } catch (const veil::wire::DecodeError&) {
        }
    }
    return 0;
}

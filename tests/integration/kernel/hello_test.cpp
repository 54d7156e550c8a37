// The out-of-tree hello-plugin (built by the ctest fixtures kernel_sdk_install and
// kernel_hello_build against the installed SDK) is found and run by the kernel.
#include <catch2/catch.hpp>

#include "support/process.hpp"

using namespace veil::test;

TEST_CASE("kernel - an out-of-tree plugin built against the installed SDK loads", "[kernel][integration][hello]") {
    std::string env = "VEIL_PLUGIN_PATH=" + std::string(VEIL_BINARY_DIR) + "/hello-plugin/lib/veil/plugins";
    auto r = run_veil({"plugins"}, {env});
    CHECK(r.exit_code == 0);
    for (const char* name : {"\ncli ", "\nmemory ", "\ndirect ", "\nhello "}) CHECK_THAT(r.out, Catch::Contains(name));
    CHECK_THAT(r.out, Catch::Contains("example plugin built out of tree"));
    r = run_veil({"hello", "Veil"}, {env});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "hello, Veil, from an out-of-tree plugin\n");
    r = run_veil({"--set", "hello.greeting=bonjour", "hello"}, {env});
    CHECK(r.out == "bonjour, world, from an out-of-tree plugin\n");
}

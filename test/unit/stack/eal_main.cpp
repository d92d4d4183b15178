// gtest main for tests that need DPDK: EAL comes up once per process, with no
// hugepages, no PCI, and a file prefix of its own so runs never collide.
#include <gtest/gtest.h>

#include <string>
#include <unistd.h>
#include <vector>

#include "stack/stack.hpp"

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    std::string prefix = "lt_unit_" + std::to_string(::getpid());
    lanetcp::init_eal({"lanetcp-unit", "--no-huge", "-m", "256", "--no-pci", "-l", "0", "--log-level", "lib.eal:error",
                       "--file-prefix", prefix});
    int rc = RUN_ALL_TESTS();
    lanetcp::cleanup_eal();
    return rc;
}

// lanetcp-echo: the stack on one DPDK port, answering ARP and ICMP echo
// (ping) and serving TCP echo on --port (default 7) on every lcore.
//
//   lanetcp-echo [EAL args] -- --ip 10.9.0.2/24 [--gateway A] [--config F] ...
//
// Exit codes: 0 clean stop, 1 runtime failure, 2 bad arguments or config,
// 3 mbufs leaked at shutdown.

#include <fmt/format.h>

#include <memory>
#include <vector>

#include "echo/echo_service.hpp"
#include "stack/app_main.hpp"

int main(int argc, char** argv) {
    using namespace lanetcp;
    constexpr const char* kName = "lanetcp-echo";
    int exit_code = 0;
    bool ok = false;
    const CommandLine cl = parse_app_command_line(
        kName, argc, argv, "lanetcp-echo: TCP echo on --port, plus ARP and ping, on a DPDK port", {}, exit_code, ok);
    if (!ok) return exit_code;

    std::vector<std::unique_ptr<apps::EchoService>> services;
    return run_stack_app(kName, cl,
                         {.start =
                              [&](Stack& stack) {
                                  stack.for_each_lcore([&](Lcore& lc) {
                                      services.push_back(std::make_unique<apps::EchoService>(lc, cl.config.app.port));
                                  });
                                  fmt::print("{}: TCP echo on port {}\n", kName, cl.config.app.port);
                              },
                          .finish =
                              [&](Stack&) {
                                  services.clear();
                                  return 0;
                              }});
}

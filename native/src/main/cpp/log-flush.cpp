// Linked into llama.cpp's own tools when the shim builds them as oracles (llamajava-embedding):
// those tools print their results through common's asynchronous logger, whose worker thread may
// still hold lines when the process exits (the logger is never destroyed). This drains it at
// normal exit, so the oracle's output is complete every time; the tool's code is unchanged.
#include "log.h"

namespace {
struct drain_log_at_exit {
    ~drain_log_at_exit() { common_log_pause(common_log_main()); }
} drain_log;
}  // namespace

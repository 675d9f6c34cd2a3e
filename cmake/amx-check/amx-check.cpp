// llamajava-amx-check: does this compiler keep the stores that ggml's ggml_tile_config_init()
// makes to its 64-byte AMX tile configuration before _tile_loadconfig()?
//
// GCC 12's _tile_loadconfig() declares that it reads only the first 8 bytes of the config, so the
// stores to colsb[] and rows[] can be dropped as dead; the tiles are then loaded unconfigured and
// the first tileloadd raises SIGILL (cmake/patches/0001-ggml-cpu-amx-keep-tile-config-stores.patch).
// This program compiles ggml's own function, extracted from the source being built (tile-config.inc),
// and looks at the configuration it hands to ldtilecfg:
//  - where the CPU runs AMX (and the kernel grants it), by reading it back with sttilecfg;
//  - elsewhere ldtilecfg raises SIGILL, and the handler finds the 64-byte configuration on the
//    faulting stack (zeroed before the call, so only stores the compiler kept can be there).
// Either way the configuration must name palette 1 and give every configured tile both rows and
// column bytes. Exit 0: the stores are kept; 1: they are dropped; 2: the check could not run.
#include <immintrin.h>

#include <csetjmp>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "tile-config.inc"

namespace {

sigjmp_buf g_jump;
volatile int g_found = -1;  // -1: no config on the stack, 0: a dropped one, 1: a kept one
volatile int g_not_ldtilecfg = 0;
uintptr_t g_top;  // the scan's upper end: a local of main(), above configure()'s frame
unsigned char g_fault_bytes[4];

// 1 when a 64-byte block is a full configuration: palette 1, reserved bytes zero, and every tile
// with rows has column bytes and the other way round, at least one of them configured
int classify(const unsigned char * b) {
    tile_config_t tc;
    std::memcpy(&tc, b, sizeof tc);
    if (tc.palette_id != 1 || tc.start_row != 0) {
        return -1;
    }
    for (unsigned char r : tc.reserved_0) {
        if (r != 0) {
            return -1;
        }
    }
    int configured = 0;
    for (int i = 0; i < 16; i++) {
        if ((tc.rows[i] == 0) != (tc.colsb[i] == 0)) {
            return 0;
        }
        configured += tc.rows[i] != 0;
    }
    return configured > 0 ? 1 : 0;
}

void on_sigill(int, siginfo_t *, void * context) {
    auto * uc = static_cast<ucontext_t *>(context);
    auto * rip = reinterpret_cast<const unsigned char *>(uc->uc_mcontext.gregs[REG_RIP]);
    std::memcpy(g_fault_bytes, rip, sizeof g_fault_bytes);
    // ldtilecfg m512: VEX.128.NP.0F38.W0 49 /0 (C4 E2 78 49)
    if (!(rip[0] == 0xC4 && rip[1] == 0xE2 && rip[2] == 0x78 && rip[3] == 0x49)) {
        g_not_ldtilecfg = 1;
        siglongjmp(g_jump, 1);
    }
    // the config sits near the faulting stack pointer: in the red zone below it, or in the frames
    // above it up to main(); it is 64-byte aligned (alignas(64) in ggml)
    uintptr_t sp = static_cast<uintptr_t>(uc->uc_mcontext.gregs[REG_RSP]);
    uintptr_t from = (sp - 512) & ~static_cast<uintptr_t>(63);
    int found = -1;
    for (uintptr_t p = from; p + 64 <= g_top; p += 64) {
        int c = classify(reinterpret_cast<const unsigned char *>(p));
        if (c > found) {
            found = c;
        }
    }
    g_found = found;
    siglongjmp(g_jump, 1);
}

__attribute__((noinline)) void zero_stack() {
    volatile unsigned char area[16384];
    for (unsigned i = 0; i < sizeof area; i++) {
        area[i] = 0;
    }
}

__attribute__((noinline)) void configure() {
    ggml_tile_config_init();
}

}  // namespace

int main() {
    volatile unsigned char marker = 0;
    g_top = reinterpret_cast<uintptr_t>(&marker);
    static unsigned char alt[65536];
    stack_t ss{};
    ss.ss_sp = alt;
    ss.ss_size = sizeof alt;
    sigaltstack(&ss, nullptr);
    struct sigaction sa{};
    sa.sa_sigaction = on_sigill;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGILL, &sa, nullptr);

    // ARCH_REQ_XCOMP_PERM for XTILEDATA, as ggml does; fails harmlessly where there is no AMX
    bool amx = syscall(SYS_arch_prctl, 0x1023, 18) == 0;

    if (sigsetjmp(g_jump, 1) == 0) {
        zero_stack();
        configure();
        // ldtilecfg ran: read the configuration back
        alignas(64) unsigned char back[64] = {0};
        _tile_storeconfig(back);
        _tile_release();
        int c = classify(back);
        std::printf("llamajava-amx-check: AMX ran (permission %s); tile config read back: %s\n",
                    amx ? "granted" : "not requested", c == 1 ? "complete" : "INCOMPLETE");
        return c == 1 ? 0 : 1;
    }
    if (g_not_ldtilecfg) {
        std::printf("llamajava-amx-check: SIGILL before ldtilecfg (at %02x %02x %02x %02x): the check cannot run "
                    "on this CPU\n", g_fault_bytes[0], g_fault_bytes[1], g_fault_bytes[2], g_fault_bytes[3]);
        return 2;
    }
    if (g_found < 0) {
        std::printf("llamajava-amx-check: ldtilecfg faulted (no AMX here) and no tile config with palette 1 was "
                    "found near its stack: the stores were dropped\n");
        return 1;
    }
    std::printf("llamajava-amx-check: ldtilecfg faulted (no AMX here); the tile config in memory: %s\n",
                g_found == 1 ? "complete" : "INCOMPLETE (rows/colsb stores dropped)");
    return g_found == 1 ? 0 : 1;
}

// Drives the NoC simulator with one SystemC process per region of routers (event-driven SC_METHODs).
//
// Each region process advances its region a quantum at a time while it has work, and sleeps until its
// next packet creation (or until a neighbour schedules a flit or credit into it) when it has none;
// skipped cycles are accounted by the core. A quantum never exceeds the smallest region-to-region
// latency, so regions running the same window in any order see the same events (temporal decoupling).
// The data path is plain function calls on struct-of-arrays state; only wake-ups touch the kernel.
#include <systemc>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "fabric/noc/noc_sim.hpp"
#include "sim/base/errors.hpp"

namespace wafersim::fabric::noc {

namespace {

class Host;

class RegionProc : public sc_core::sc_module, public IRegionWaker {
public:
    SC_HAS_PROCESS(RegionProc);
    RegionProc(const sc_core::sc_module_name& name, Host* host, int slot, sc_core::sc_event& resume);
    void wake_at(Cycle c) override;
    void reset() { m_done = 0; }
    void poke() { m_wake.notify(sc_core::SC_ZERO_TIME); }

private:
    void tick();
    Host* m_host;
    int m_slot;
    Cycle m_done = 0;  // first cycle of this region not yet processed
    sc_core::sc_event m_wake;
};

// The region processes and the clock of the current run. SystemC elaborates once per process, so the
// host is a singleton whose processes serve every later run of a mesh with no more regions.
class Host : public sc_core::sc_module {
public:
    static Host& instance(int regions) {
        static Host* h = nullptr;
        if (!h) {
            ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
            try {
                h = new Host("wafersim_noc", std::max(regions, 64));
            } catch (const std::exception& e) {
                throw PlanError(std::string("noc: cannot create the SystemC region processes (SystemC elaborates once per "
                                            "process; run `wafersim noc` in a new process): ") + e.what());
            }
        }
        if (regions > static_cast<int>(h->m_procs.size()))
            throw PlanError("noc: this process created " + std::to_string(h->m_procs.size()) +
                            " SystemC region processes and a run needs " + std::to_string(regions) +
                            "; SystemC cannot add processes after elaboration, so run it in a new process");
        return *h;
    }

    Cycle now_cycle() const { return sc_core::sc_time_stamp().value() / m_per_cycle - m_base; }
    static sc_core::sc_time cycles(Cycle n) { return sc_core::sc_time(static_cast<double>(n), sc_core::SC_NS); }

    NocResult run(NocSim& sim) {
        m_sim = &sim;
        m_base = sc_core::sc_time_stamp().value() / m_per_cycle;
        m_horizon = 0;
        for (auto& p : m_procs) p->reset();
        auto advance = [&](Cycle h) {
            m_horizon = h;
            m_resume.notify(sc_core::SC_ZERO_TIME);
            const Cycle now = now_cycle();
            sc_core::sc_start(cycles(h > now ? h - now : 0));
            sim.set_horizon(h);
        };
        NocResult r;
        try {
            r = sim.run_experiment(advance, "systemc");
        } catch (...) {
            finish();
            throw;
        }
        finish();
        return r;
    }

    NocSim* sim() const { return m_sim; }
    Cycle horizon() const { return m_horizon; }

private:
    Host(const sc_core::sc_module_name& name, int slots) : sc_core::sc_module(name) {
        m_per_cycle = sc_core::sc_time(1, sc_core::SC_NS).value();
        for (int i = 0; i < slots; ++i)
            m_procs.push_back(std::make_unique<RegionProc>(("region_" + std::to_string(i)).c_str(), this, i, m_resume));
    }
    // Returns every process to its static sensitivity (resume) so the next run starts clean.
    void finish() {
        m_sim = nullptr;
        for (auto& p : m_procs) p->poke();
        sc_core::sc_start(sc_core::SC_ZERO_TIME);
    }

    std::vector<std::unique_ptr<RegionProc>> m_procs;
    sc_core::sc_event m_resume;
    NocSim* m_sim = nullptr;
    Cycle m_base = 0, m_horizon = 0;
    sc_dt::uint64 m_per_cycle = 1000;
};

RegionProc::RegionProc(const sc_core::sc_module_name& name, Host* host, int slot, sc_core::sc_event& resume)
    : sc_core::sc_module(name), m_host(host), m_slot(slot) {
    SC_METHOD(tick);
    sensitive << resume;
    dont_initialize();
}

void RegionProc::wake_at(Cycle c) {
    const Cycle now = m_host->now_cycle();
    m_wake.notify(Host::cycles(c > now ? c - now : 0));
}

void RegionProc::tick() {
    m_wake.cancel();
    NocSim* sim = m_host->sim();
    if (!sim || m_slot >= sim->region_count()) return;  // idle slot: wait for the next run
    const Cycle now = m_host->now_cycle();
    if (now < m_done) {  // an early wake-up: this window is already done
        next_trigger(Host::cycles(m_done - now), m_wake);
        return;
    }
    const Cycle end = std::min(now + sim->quantum(), m_host->horizon());
    if (end <= now) return;  // at the horizon: the next advance notifies resume
    const Cycle next = sim->run_region(m_slot, now, end);
    m_done = end;
    if (next == end) {
        next_trigger(Host::cycles(end - now), m_wake);
        return;
    }
    sim->sleep_region(m_slot, next, this);
    if (next == kNever) next_trigger(m_wake);
    else next_trigger(Host::cycles(next - now), m_wake);
}

}  // namespace

NocResult run_with_systemc(NocSim& sim) { return Host::instance(sim.region_count()).run(sim); }

}  // namespace wafersim::fabric::noc

// libsystemc.so's main() refers to sc_main; executables here have their own main. A weak definition
// lets them link whether or not another library also defines it.
int sc_main(int, char**) __attribute__((weak));
int sc_main(int, char**) { return 0; }

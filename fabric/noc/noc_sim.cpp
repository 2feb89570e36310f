// Models a mesh of BookSim2-style input-queued VC routers under synthetic traffic, cycle by cycle.
//
// Per cycle and region, in BookSim's order: events due this cycle (flits arriving in input buffers,
// credits, ejections), then sources (packet creation, one flit injected per node), then every router
// with work: VC allocation, then switch allocation and traversal. Flits and credits in flight sit in a
// per-region time wheel; nothing on the data path touches the SystemC kernel.
#include "fabric/noc/noc_sim.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>

#include "sim/base/errors.hpp"

namespace wafersim::fabric::noc {

const char* traffic_name(Traffic t) {
    switch (t) {
        case Traffic::Uniform: return "uniform";
        case Traffic::Transpose: return "transpose";
        case Traffic::BitComplement: return "bitcomplement";
        case Traffic::Hotspot: return "hotspot";
        case Traffic::Scripted: return "scripted";
    }
    return "?";
}

bool parse_traffic(const std::string& text, Traffic& out) {
    if (text == "uniform") out = Traffic::Uniform;
    else if (text == "transpose") out = Traffic::Transpose;
    else if (text == "bitcomplement") out = Traffic::BitComplement;
    else if (text == "hotspot") out = Traffic::Hotspot;
    else return false;
    return true;
}

static std::string fmt_g(double v) {
    char b[64];
    std::snprintf(b, sizeof b, "%g", v);
    return b;
}

void validate_run_options(const NocRunOptions& o) {
    DiagnosticSink sink;
    auto bad = [&](const std::string& key, const std::string& msg) { sink.add("", 0, key, msg); };
    if (o.cols < 1 || o.rows < 1 || o.cols > 2048 || o.rows > 2048)
        bad("--mesh", std::to_string(o.rows) + "x" + std::to_string(o.cols) + " is out of range; expected 1..2048 per side");
    if (!(o.injection_rate > 0) || o.injection_rate > 1)
        bad("--injection-rate", "expected a rate in (0, 1] flits/node/cycle, found " + fmt_g(o.injection_rate));
    if (o.packet_flits < 1 || o.packet_flits > 4096)
        bad("--packet-flits", "expected 1..4096 flits, found " + std::to_string(o.packet_flits));
    if (o.traffic == Traffic::Transpose && o.cols != o.rows)
        bad("--traffic", "transpose needs a square mesh, found " + std::to_string(o.rows) + "x" + std::to_string(o.cols));
    const long long n = static_cast<long long>(o.cols) * o.rows;
    if (o.traffic == Traffic::Hotspot) {
        if (o.hotspot_node < 0 || o.hotspot_node >= n)
            bad("--hotspot-node", "node " + std::to_string(o.hotspot_node) + " is outside the mesh; expected 0.." +
                                      std::to_string(n - 1) + " (node = x + cols * y)");
        if (!(o.hotspot_fraction >= 0 && o.hotspot_fraction <= 1))
            bad("--hotspot-fraction", "expected a fraction in [0, 1], found " + fmt_g(o.hotspot_fraction));
    }
    if (o.warmup_cycles < -1) bad("--warmup", "expected a cycle count >= 0");
    if (o.measure_cycles == 0 || o.measure_cycles < -1) bad("--measure", "expected a cycle count >= 1");
    if (o.region_side < 0) bad("region_side", "expected >= 0");
    sink.throw_if_any();
}

namespace {

using u8 = std::uint8_t;
using u16 = std::uint16_t;
using u32 = std::uint32_t;
using u64 = std::uint64_t;

constexpr u32 kNone = ~u32(0);
constexpr u8 kHead = 1, kTail = 2;
enum VcState : u8 { Idle = 0, VcAlloc = 1, Active = 2 };
enum EventKind : u8 { EvFlit = 0, EvCredit = 1, EvSrcCredit = 2, EvEject = 3 };

struct Flit {
    u32 pkt;
    u32 dst;  // destination router (internal id), carried for routing
    u16 seq;
    u8 flags;
    u8 vc;  // virtual channel at the receiving input
};

struct Event {
    u32 when;    // low 32 bits of the cycle (checked when processed)
    u32 target;  // router / node (internal id)
    u8 kind, port, vc, pad;
    Flit flit;
};

struct Packet {
    Cycle ctime = 0, itime = 0;
    u32 src = 0, dst = 0;  // internal ids
    u32 flits = 1;
    bool record = false;
};

struct Scripted {
    Cycle ctime;
    u32 dst;   // internal id
    u32 flits;
};

// Counters of one region; summed at dump time.
struct RegionStats {
    u64 measured_done = 0, sum_plat = 0, sum_nlat = 0, sum_hops = 0, max_plat = 0;
    u64 window_accepted = 0, window_injected = 0;
    std::int64_t measured_inflight = 0;  // created (source region) minus delivered (destination region)
    double inflight_ctime = 0;           // sum of creation cycles of those packets
    u64 created = 0, delivered = 0;
    u64 stepped = 0, skipped = 0;
};

struct Region {
    u32 first = 0, count = 0;  // internal ids [first, first + count)
    std::vector<std::vector<Event>> wheel;
    u64 wheel_pending = 0;
    u64 buffered = 0;  // flits in this region's input buffers
    u32 src_busy = 0;  // nodes with a packet being injected
    Cycle next_cycle = 0;
    Cycle sleep_until = 0;  // 0 = awake
    IRegionWaker* waker = nullptr;
    RegionStats st;
};

inline u64 splitmix64(u64& s) {
    u64 z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

constexpr u32 kPop5[32] = {0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 1, 2, 2, 3, 2, 3, 3, 4, 2, 3, 3, 4, 3, 4, 4, 5};

inline u32 rotr_bits(u32 m, int off, int width) {
    if (off == 0) return m;
    const u32 full = width >= 32 ? ~u32(0) : ((u32(1) << width) - 1);
    return ((m >> off) | (m << (width - off))) & full;
}

}  // namespace

struct NocSim::Impl {
    NocRouterSpec s;
    NocRunOptions o;
    int cols = 0, rows = 0, N = 0, V = 0, B = 0;
    int P5V = 0;  // kPorts * V
    u32 vc_full = 0;  // mask of V bits
    u8 vc_port[kPorts * 32] = {};  // input port of expanded input VC index p*V + v
    // Pipeline offsets (see NocRouterSpec).
    Cycle va_first = 0;     // head buffered at t -> first VC allocation at t + va_first
    Cycle va_after_tail = 0;// previous tail left at t -> next head's VC allocation at t + va_after_tail
    Cycle sa_after_va = 0;  // VC granted at t -> first switch allocation at t + sa_after_va
    Cycle sa_first = 0;     // body flit buffered at t in an active VC -> switch allocation at t + sa_first
    Cycle sa_next = 0;      // previous flit left at t -> next flit's switch allocation at t + sa_next
    Cycle flit_delay = 0, credit_rdelay = 0, eject_delay = 0, src_credit_delay = 0, inject_delay = 0, eject_credit_delay = 0;
    Cycle Q = 1;
    u32 wheel_mask = 0;
    bool wftc = false;
    int iters = 1;

    // Geometry. Internal ids are region-major; BookSim ids are x + cols * y.
    std::vector<u32> id_of, bs_of;
    std::vector<u16> xs, ys;
    std::vector<std::int32_t> nbr;  // [id*4 + dir], -1 at the mesh edge
    std::vector<u32> region_of;

    // Input VCs [(id*5 + port)*V + vc].
    std::vector<Flit> buf;
    std::vector<u16> bhead, bcnt;
    std::vector<u8> vstate, vroute, voutvc;
    std::vector<Cycle> vready;
    std::vector<u8> va_aptr;
    // Output VCs [(id*5 + port)*V + vc] (credits for the downstream buffer).
    std::vector<std::int32_t> credits;
    std::vector<u8> otail, va_gptr;
    std::vector<u32> obusy_mask;  // [id*5 + port]: bit v = output VC v holds a packet
    // Per router port [id*5 + port].
    std::vector<u32> va_mask, sa_mask;
    std::vector<u8> sa_gptr, sa_aptr, sa_rr;
    std::vector<u16> rflags;  // bit p: VC allocation requests at input p; bit 5+p: switch requests
    std::vector<Cycle> sa_next_min;  // no switch request can be ready before this cycle

    // Sources [id] and their view of the router's injection buffer [id*V + vc].
    std::vector<Cycle> next_create;
    std::vector<u32> src_pkt;
    std::vector<u16> src_seq;
    std::vector<std::int8_t> src_vc;
    std::vector<u8> src_last;
    std::vector<std::int32_t> src_credits;
    std::vector<u8> src_busy, src_tail;
    std::vector<u64> rng;
    double p_packet = 0, log1mp = 0;
    std::vector<std::vector<Scripted>> script;
    std::vector<u32> script_pos;
    bool script_sorted = true;

    std::vector<Packet> pk;
    std::vector<u32> free_pk;

    std::vector<u64> link_flits, inj_flits, ej_flits, held;
    std::vector<u8> blocked;
    std::vector<PacketRecord> log;

    std::vector<Region> regions;
    Cycle W = 0, E = kNever;  // measurement window [W, E)
    Cycle horizon = 0;

    void build();

    // --- helpers -----------------------------------------------------------------------------------
    u32 alloc_packet() {
        if (!free_pk.empty()) {
            u32 id = free_pk.back();
            free_pk.pop_back();
            return id;
        }
        pk.emplace_back();
        return static_cast<u32>(pk.size() - 1);
    }
    __attribute__((always_inline)) void push(u32 region, const Event& e, Cycle when) {
        Region& g = regions[region];
        g.wheel[when & wheel_mask].push_back(e);
        g.wheel_pending++;
        if (when < g.sleep_until) {
            g.sleep_until = when;
            if (g.waker) g.waker->wake_at(when);
        }
    }
    u8 route(u32 r, u32 dst) const {
        if (r == dst) return kLocalPort;
        if (xs[r] != xs[dst]) return xs[r] < xs[dst] ? 0 : 1;
        return ys[r] < ys[dst] ? 2 : 3;
    }
    Cycle gap(u64& st) const {
        if (p_packet >= 1) return 1;
        const double u = static_cast<double>(splitmix64(st) >> 11) * 0x1.0p-53;  // [0, 1)
        const double g = std::floor(std::log1p(-u) / log1mp);
        if (!(g < 1e15)) return Cycle(1e15);
        return 1 + static_cast<Cycle>(g);
    }
    u32 destination(u32 n) {
        const u32 b = bs_of[n];
        const u32 x = b % static_cast<u32>(cols), y = b / static_cast<u32>(cols);
        u32 d = b;
        switch (o.traffic) {
            case Traffic::Uniform: d = static_cast<u32>((static_cast<unsigned __int128>(splitmix64(rng[n])) * N) >> 64); break;
            case Traffic::Transpose: d = y + static_cast<u32>(cols) * x; break;
            case Traffic::BitComplement: d = (static_cast<u32>(cols) - 1 - x) + static_cast<u32>(cols) * (static_cast<u32>(rows) - 1 - y); break;
            case Traffic::Hotspot: {
                const double u = static_cast<double>(splitmix64(rng[n]) >> 11) * 0x1.0p-53;
                if (u < o.hotspot_fraction) d = static_cast<u32>(o.hotspot_node);
                else d = static_cast<u32>((static_cast<unsigned __int128>(splitmix64(rng[n])) * N) >> 64);
                break;
            }
            case Traffic::Scripted: break;
        }
        return id_of[d];
    }
    Cycle min_next_create(const Region& g) const {
        Cycle m = kNever;
        const Cycle* nc = next_create.data();
        for (u32 n = g.first; n < g.first + g.count; ++n) m = std::min(m, nc[n]);
        return m;
    }

    void set_va(u32 r, int p, int v, u32 iv, Cycle ready) {
        vstate[iv] = VcAlloc;
        vroute[iv] = route(r, buf[static_cast<std::size_t>(iv) * B + bhead[iv]].dst);
        vready[iv] = ready;
        va_mask[r * kPorts + p] |= u32(1) << v;
        rflags[r] |= u16(1) << p;
    }

    // --- per-cycle work ----------------------------------------------------------------------------
    void handle(Region& g, const Event& e, Cycle c);
    void create(Region& g, u32 n, Cycle c);
    void inject(Region& g, u32 n, Cycle c);
    void eject(Region& g, u32 n, const Flit& f, Cycle c);
    void vc_alloc(u32 r, Cycle c);
    void grant_vc(u32 r, std::size_t iv, int ivx, int o, int ovc, Cycle c) {
        const int p = ivx >= V ? vc_port[ivx] : 0, v = ivx - p * V;
        obusy_mask[r * kPorts + o] |= u32(1) << ovc;
        vstate[iv] = Active;
        voutvc[iv] = static_cast<u8>(ovc);
        vready[iv] = c + sa_after_va;
        sa_next_min[r] = std::min(sa_next_min[r], c + sa_after_va);
        u32& vm = va_mask[r * kPorts + p];
        vm &= ~(u32(1) << v);
        sa_mask[r * kPorts + p] |= u32(1) << v;
        u16 f = rflags[r] | static_cast<u16>(u16(1) << (5 + p));
        if (!vm) f = static_cast<u16>(f & ~(u16(1) << p));
        rflags[r] = f;
    }
    void sw_alloc(Region& g, u32 r, Cycle c);
    void commit_sa(Region& g, u32 r, int p, int o, int v, Cycle c);
    void step(Region& g, Cycle c);
    Cycle run_region(u32 ri, Cycle from, Cycle to);

    double mean_lag(Cycle h) const {
        double sum = 0;
        for (int n = 0; n < N; ++n) {
            if (src_pkt[n] != kNone) sum += static_cast<double>(h - std::min(h, pk[src_pkt[n]].ctime));
            else if (next_create[n] < h) sum += static_cast<double>(h - next_create[n]);
        }
        return sum / N;
    }
    RegionStats totals() const {
        RegionStats t;
        for (const auto& g : regions) {
            const RegionStats& s = g.st;
            t.measured_done += s.measured_done;
            t.sum_plat += s.sum_plat;
            t.sum_nlat += s.sum_nlat;
            t.sum_hops += s.sum_hops;
            t.max_plat = std::max(t.max_plat, s.max_plat);
            t.window_accepted += s.window_accepted;
            t.window_injected += s.window_injected;
            t.measured_inflight += s.measured_inflight;
            t.inflight_ctime += s.inflight_ctime;
            t.created += s.created;
            t.delivered += s.delivered;
            t.stepped += s.stepped;
            t.skipped += s.skipped;
        }
        return t;
    }
    // Average latency of measured packets, counting those still in flight at their age (BookSim).
    double latency_with_inflight(Cycle h) const {
        const RegionStats t = totals();
        const double n = static_cast<double>(t.measured_done) + static_cast<double>(t.measured_inflight);
        if (n <= 0) return 0;
        const double inflight_age = static_cast<double>(t.measured_inflight) * static_cast<double>(h) - t.inflight_ctime;
        return (static_cast<double>(t.sum_plat) + inflight_age) / n;
    }
    bool measured_pending() const {
        if (totals().measured_inflight > 0) return true;
        for (int n = 0; n < N; ++n)
            if (next_create[n] < E) return true;
        return false;
    }
};

void NocSim::Impl::build() {
    cols = o.cols;
    rows = o.rows;
    N = cols * rows;
    V = s.vcs;
    B = s.vc_buffer_flits;
    P5V = kPorts * V;
    wftc = s.wait_for_tail_credit;
    iters = s.alloc_iters;
    const Cycle rd = static_cast<Cycle>(s.routing_delay), va = static_cast<Cycle>(s.vc_alloc_delay);
    const Cycle sa = static_cast<Cycle>(s.sw_alloc_delay), st = static_cast<Cycle>(s.st_final_delay);
    const Cycle L = static_cast<Cycle>(s.link_latency), Lr = static_cast<Cycle>(s.ramp_latency);
    const Cycle cd = static_cast<Cycle>(s.credit_delay);
    va_first = rd + std::max<Cycle>(va, 1) - 1;
    va_after_tail = rd + std::max<Cycle>(va, 1);
    sa_after_va = va == 0 ? sa - 1 : sa;
    sa_first = sa - 1;
    sa_next = sa;
    flit_delay = st + L + 1;
    credit_rdelay = L + 1 + cd;
    eject_delay = st + Lr + 1;
    inject_delay = Lr + 1;
    src_credit_delay = Lr + 1;
    eject_credit_delay = Lr + 1 + cd;

    // Regions of side x side routers, region-major internal ids.
    const int side = o.region_side > 0 ? o.region_side : s.region_side;
    const int rx = (cols + side - 1) / side, ry = (rows + side - 1) / side;
    id_of.assign(N, 0);
    bs_of.assign(N, 0);
    xs.assign(N, 0);
    ys.assign(N, 0);
    region_of.assign(N, 0);
    regions.assign(static_cast<std::size_t>(rx) * ry, Region{});
    u32 next = 0;
    for (int by = 0; by < ry; ++by)
        for (int bx = 0; bx < rx; ++bx) {
            Region& g = regions[static_cast<std::size_t>(by) * rx + bx];
            g.first = next;
            for (int y = by * side; y < std::min(rows, (by + 1) * side); ++y)
                for (int x = bx * side; x < std::min(cols, (bx + 1) * side); ++x) {
                    const u32 b = static_cast<u32>(x + cols * y);
                    id_of[b] = next;
                    bs_of[next] = b;
                    xs[next] = static_cast<u16>(x);
                    ys[next] = static_cast<u16>(y);
                    region_of[next] = static_cast<u32>(by * rx + bx);
                    ++next;
                }
            g.count = next - g.first;
        }
    nbr.assign(static_cast<std::size_t>(N) * 4, -1);
    for (int id = 0; id < N; ++id) {
        const int x = xs[id], y = ys[id];
        if (x + 1 < cols) nbr[id * 4 + 0] = static_cast<std::int32_t>(id_of[(x + 1) + cols * y]);
        if (x > 0) nbr[id * 4 + 1] = static_cast<std::int32_t>(id_of[(x - 1) + cols * y]);
        if (y + 1 < rows) nbr[id * 4 + 2] = static_cast<std::int32_t>(id_of[x + cols * (y + 1)]);
        if (y > 0) nbr[id * 4 + 3] = static_cast<std::int32_t>(id_of[x + cols * (y - 1)]);
    }

    // Quantum: the smallest latency of anything that crosses a region boundary (a flit or a credit
    // between neighbouring routers). With one region nothing crosses, so the quantum is only a batch size.
    const Cycle cross = std::min(flit_delay, credit_rdelay);
    if (cross < 1) throw InternalError("noc: region-to-region latency below one cycle");
    Q = regions.size() > 1 ? cross : 256;
    const Cycle max_delay = std::max({flit_delay, credit_rdelay, eject_delay, inject_delay, eject_credit_delay});
    Cycle need = max_delay + (regions.size() > 1 ? Q : 1) + 1;
    u32 D = 1;
    while (D < need) D <<= 1;
    wheel_mask = D - 1;
    for (auto& g : regions) g.wheel.assign(D, {});

    const std::size_t IV = static_cast<std::size_t>(N) * kPorts * V;
    buf.assign(IV * B, Flit{});
    bhead.assign(IV, 0);
    bcnt.assign(IV, 0);
    vstate.assign(IV, Idle);
    vroute.assign(IV, 0);
    voutvc.assign(IV, 0);
    vready.assign(IV, 0);
    va_aptr.assign(IV, 0);
    credits.assign(IV, B);
    obusy_mask.assign(static_cast<std::size_t>(N) * kPorts, 0);
    vc_full = V >= 32 ? ~u32(0) : ((u32(1) << V) - 1);
    for (int i = 0; i < P5V; ++i) vc_port[i] = static_cast<u8>(i / V);
    otail.assign(IV, 0);
    va_gptr.assign(IV, 0);
    va_mask.assign(static_cast<std::size_t>(N) * kPorts, 0);
    sa_mask.assign(static_cast<std::size_t>(N) * kPorts, 0);
    sa_gptr.assign(static_cast<std::size_t>(N) * kPorts, 0);
    sa_aptr.assign(static_cast<std::size_t>(N) * kPorts, 0);
    sa_rr.assign(static_cast<std::size_t>(N) * kPorts, 0);
    rflags.assign(N, 0);
    sa_next_min.assign(N, 0);

    next_create.assign(N, kNever);
    src_pkt.assign(N, kNone);
    src_seq.assign(N, 0);
    src_vc.assign(N, -1);
    src_last.assign(N, static_cast<u8>(V - 1));
    src_credits.assign(static_cast<std::size_t>(N) * V, B);
    src_busy.assign(static_cast<std::size_t>(N) * V, 0);
    src_tail.assign(static_cast<std::size_t>(N) * V, 0);
    rng.assign(N, 0);
    script.assign(N, {});
    script_pos.assign(N, 0);
    link_flits.assign(static_cast<std::size_t>(N) * kPorts, 0);
    inj_flits.assign(N, 0);
    ej_flits.assign(N, 0);
    held.assign(N, 0);
    blocked.assign(N, 0);

    p_packet = o.injection_rate / o.packet_flits;
    log1mp = p_packet < 1 ? std::log1p(-p_packet) : 0;
    for (int id = 0; id < N; ++id) {
        u64 seed = o.seed * 0x2545f4914f6cdd1dULL + 0x632be59bd9b4e5ULL * (bs_of[id] + 1);
        splitmix64(seed);
        rng[id] = seed;
        if (o.traffic != Traffic::Scripted) next_create[id] = gap(rng[id]) - 1;  // first trial at cycle 0
    }
}

void NocSim::Impl::handle(Region& g, const Event& e, Cycle c) {
    const u32 t = e.target;
    switch (e.kind) {
        case EvFlit: {
            const int p = e.port, v = e.flit.vc;
            const u32 iv = (t * kPorts + p) * V + v;
            if (bcnt[iv] >= B) throw InternalError("noc: input buffer overflow (credit protocol violated)");
            u32 slot = bhead[iv] + bcnt[iv];
            if (slot >= static_cast<u32>(B)) slot -= B;
            buf[static_cast<std::size_t>(iv) * B + slot] = e.flit;
            ++bcnt[iv];
            ++g.buffered;
            if (bcnt[iv] == 1) {
                if (vstate[iv] == Idle) {
                    set_va(t, p, v, iv, c + va_first);
                } else if (vstate[iv] == Active) {
                    vready[iv] = c + sa_first;
                    sa_next_min[t] = std::min(sa_next_min[t], c + sa_first);
                    sa_mask[t * kPorts + p] |= u32(1) << v;
                    rflags[t] |= u16(1) << (5 + p);
                }
            }
            break;
        }
        case EvCredit: {
            const u32 ov = (t * kPorts + e.port) * V + e.vc;
            ++credits[ov];
            if (wftc && otail[ov] && credits[ov] == B) {
                otail[ov] = 0;
                obusy_mask[t * kPorts + e.port] &= ~(u32(1) << e.vc);
            }
            break;
        }
        case EvSrcCredit: {
            const u32 sv = t * V + e.vc;
            ++src_credits[sv];
            if (wftc && src_tail[sv] && src_credits[sv] == B) {
                src_tail[sv] = 0;
                src_busy[sv] = 0;
            }
            break;
        }
        case EvEject: eject(g, t, e.flit, c); break;
        default: throw InternalError("noc: unknown event kind");
    }
}

void NocSim::Impl::create(Region& g, u32 n, Cycle c) {
    const Cycle ct = next_create[n];
    u32 dst, flits;
    if (o.traffic == Traffic::Scripted) {
        const Scripted& sc = script[n][script_pos[n]++];
        dst = sc.dst;
        flits = sc.flits;
        next_create[n] = script_pos[n] < script[n].size() ? std::max(script[n][script_pos[n]].ctime, ct) : kNever;
    } else {
        dst = destination(n);
        flits = static_cast<u32>(o.packet_flits);
        next_create[n] = ct + gap(rng[n]);
    }
    const u32 id = alloc_packet();
    Packet& p = pk[id];
    p.ctime = ct;
    p.itime = 0;
    p.src = n;
    p.dst = dst;
    p.flits = flits;
    p.record = ct >= W && ct < E;
    if (p.record) {
        ++g.st.measured_inflight;
        g.st.inflight_ctime += static_cast<double>(ct);
    }
    ++g.st.created;
    src_pkt[n] = id;
    src_seq[n] = 0;
    src_vc[n] = -1;
    ++g.src_busy;
    (void)c;
}

void NocSim::Impl::inject(Region& g, u32 n, Cycle c) {
    const u32 id = src_pkt[n];
    int vc = src_vc[n];
    const std::size_t base = static_cast<std::size_t>(n) * V;
    if (vc < 0) {
        // BookSim: the head takes the first VC after the last one used that is free and has a credit.
        for (int i = 1; i <= V; ++i) {
            int v = src_last[n] + i;
            if (v >= V) v -= V;
            if (!src_busy[base + v] && src_credits[base + v] > 0) {
                vc = v;
                break;
            }
        }
        if (vc < 0) return;
        src_vc[n] = static_cast<std::int8_t>(vc);
    }
    if (src_credits[base + vc] <= 0) return;
    Packet& p = pk[id];
    const u16 seq = src_seq[n];
    const bool head = seq == 0, tail = seq + 1u == p.flits;
    --src_credits[base + vc];
    if (head) {
        src_busy[base + vc] = 1;
        src_last[n] = static_cast<u8>(vc);
        p.itime = c;
    }
    Event e{};
    e.when = static_cast<u32>(c + inject_delay);
    e.target = n;
    e.kind = EvFlit;
    e.port = kLocalPort;
    e.flit = Flit{id, p.dst, seq, static_cast<u8>((head ? kHead : 0) | (tail ? kTail : 0)), static_cast<u8>(vc)};
    push(region_of[n], e, c + inject_delay);
    ++inj_flits[n];
    if (c >= W && c < E) ++g.st.window_injected;
    if (tail) {
        if (wftc) src_tail[base + vc] = 1;
        else src_busy[base + vc] = 0;
        src_pkt[n] = kNone;
        src_vc[n] = -1;
        src_seq[n] = 0;
        --g.src_busy;
    } else {
        src_seq[n] = static_cast<u16>(seq + 1);
    }
}

void NocSim::Impl::eject(Region& g, u32 n, const Flit& f, Cycle c) {
    if (blocked[n]) {
        ++held[n];
        return;
    }
    ++ej_flits[n];
    if (c >= W && c < E) ++g.st.window_accepted;
    Event e{};
    e.when = static_cast<u32>(c + eject_credit_delay);
    e.target = n;
    e.kind = EvCredit;
    e.port = kLocalPort;
    e.vc = f.vc;
    push(region_of[n], e, c + eject_credit_delay);
    if (!(f.flags & kTail)) return;
    Packet& p = pk[f.pkt];
    if (p.record) {
        const u64 plat = c - p.ctime;
        g.st.sum_plat += plat;
        g.st.sum_nlat += c - p.itime;
        const int dx = std::abs(static_cast<int>(xs[p.src]) - static_cast<int>(xs[p.dst]));
        const int dy = std::abs(static_cast<int>(ys[p.src]) - static_cast<int>(ys[p.dst]));
        g.st.sum_hops += static_cast<u64>(dx + dy + 1);
        g.st.max_plat = std::max(g.st.max_plat, plat);
        ++g.st.measured_done;
        --g.st.measured_inflight;
        g.st.inflight_ctime -= static_cast<double>(p.ctime);
    }
    if (o.keep_packet_log)
        log.push_back(PacketRecord{static_cast<int>(bs_of[p.src]), static_cast<int>(bs_of[p.dst]), static_cast<int>(p.flits),
                                   p.ctime, p.itime, c});
    ++g.st.delivered;
    free_pk.push_back(f.pkt);
}

// Separable iSLIP VC allocation: requesters are input VCs (index p*V + v), resources are the free
// output VCs of the requested port. Each input VC requests one port (dimension-order routing), so the
// allocation splits by output port. Pointers move only on first-iteration matches (McKeown's iSLIP).
void NocSim::Impl::vc_alloc(u32 r, Cycle c) {
    constexpr int kMaxReq = kPorts * 24;
    u8 req[kPorts][kMaxReq];
    int nreq[kPorts] = {0, 0, 0, 0, 0};
    u32 outs = 0;
    const std::size_t rbase = static_cast<std::size_t>(r) * P5V;
    for (u32 ports = rflags[r] & 0x1fu; ports;) {
        const int p = __builtin_ctz(ports);
        ports &= ports - 1;
        u32 m = va_mask[r * kPorts + p];
        while (m) {
            const int v = __builtin_ctz(m);
            m &= m - 1;
            const std::size_t iv = rbase + static_cast<std::size_t>(p) * V + v;
            if (vready[iv] > c) continue;
            const int o = vroute[iv];
            req[o][nreq[o]++] = static_cast<u8>(p * V + v);
            outs |= u32(1) << o;
        }
    }
    while (outs) {
        const int o = __builtin_ctz(outs);
        outs &= outs - 1;
        const int k = nreq[o];
        const std::size_t obase = rbase + static_cast<std::size_t>(o) * V;
        u32 freem = ~obusy_mask[r * kPorts + o] & vc_full;
        if (!freem) continue;
        if (k == 1) {
            // One requester: every free output VC grants it; it accepts the first at or after its
            // accept pointer (what the general loop below computes, faster).
            const int ivx = req[o][0];
            const std::size_t iv = rbase + ivx;
            const int off = static_cast<int>(va_aptr[iv]) - o * V;
            int best = __builtin_ctz(freem);
            if (off > 0 && off < V) {
                const u32 hi = freem & ~((u32(1) << off) - 1);
                if (hi) best = __builtin_ctz(hi);
            }
            va_gptr[obase + best] = static_cast<u8>(ivx + 1 == P5V ? 0 : ivx + 1);
            va_aptr[iv] = static_cast<u8>(o * V + best + 1 == P5V ? 0 : o * V + best + 1);
            grant_vc(r, iv, ivx, o, best, c);
            continue;
        }
        bool in_matched[kMaxReq];
        for (int j = 0; j < k; ++j) in_matched[j] = false;
        int grant[32];
        for (int it = 0; it < iters && freem; ++it) {
            // Grant: every free output VC picks the first unmatched requester at or after its pointer.
            for (u32 m = freem; m;) {
                const int v = __builtin_ctz(m);
                m &= m - 1;
                const int gp = va_gptr[obase + v];
                int best = -1, bestd = 1 << 30;
                for (int j = 0; j < k; ++j) {
                    if (in_matched[j]) continue;
                    int d = req[o][j] - gp;
                    if (d < 0) d += P5V;
                    if (d < bestd) {
                        bestd = d;
                        best = j;
                    }
                }
                grant[v] = best;
            }
            // Accept: every requester takes the first granting output VC at or after its pointer.
            bool any = false;
            const u32 offered = freem;
            for (int j = 0; j < k; ++j) {
                if (in_matched[j]) continue;
                const int ivx = req[o][j];
                const std::size_t iv = rbase + ivx;
                const int ap = va_aptr[iv];
                int best = -1, bestd = 1 << 30;
                for (u32 m = offered; m;) {
                    const int v = __builtin_ctz(m);
                    m &= m - 1;
                    if (grant[v] != j) continue;
                    int d = o * V + v - ap;
                    if (d < 0) d += P5V;
                    if (d < bestd) {
                        bestd = d;
                        best = v;
                    }
                }
                if (best < 0) continue;
                any = true;
                in_matched[j] = true;
                freem &= ~(u32(1) << best);
                if (it == 0) {
                    va_gptr[obase + best] = static_cast<u8>(ivx + 1 == P5V ? 0 : ivx + 1);
                    va_aptr[iv] = static_cast<u8>(o * V + best + 1 == P5V ? 0 : o * V + best + 1);
                }
                grant_vc(r, iv, ivx, o, best, c);
            }
            if (!any) break;
        }
    }
}

// Switch allocation: per input port, the VCs that are ready and hold a credit for their output VC
// request their output port; among VCs of one input wanting the same output, round robin from the VC
// after the last one granted (BookSim's sw_rr_offset). Then iSLIP over the 5 x 5 ports.
void NocSim::Impl::sw_alloc(Region& g, u32 r, Cycle c) {
    u8 reqmask[kPorts] = {0, 0, 0, 0, 0};
    u8 outreq[kPorts] = {0, 0, 0, 0, 0};
    u8 chosen[kPorts][kPorts];
    const std::size_t rbase = static_cast<std::size_t>(r) * P5V;
    u32 ins = 0, nreq = 0, outs_any = 0;
    Cycle next = kNever;  // earliest cycle a VC not requesting now becomes ready
    for (u32 ports = static_cast<u32>(rflags[r]) >> 5; ports;) {
        const int p = __builtin_ctz(ports);
        ports &= ports - 1;
        const u32 m = sa_mask[r * kPorts + p];
        const int off = sa_rr[r * kPorts + p];
        for (u32 rm = rotr_bits(m, off, V); rm;) {
            int v = __builtin_ctz(rm) + off;
            rm &= rm - 1;
            if (v >= V) v -= V;
            const std::size_t iv = rbase + static_cast<std::size_t>(p) * V + v;
            if (vready[iv] > c) {
                next = std::min(next, vready[iv]);
                continue;
            }
            next = c + 1;  // ready: it requests now or retries next cycle
            const int o = vroute[iv];
            if (reqmask[p] & (1u << o)) continue;
            if (credits[rbase + static_cast<std::size_t>(o) * V + voutvc[iv]] <= 0) continue;
            reqmask[p] |= static_cast<u8>(1u << o);
            outreq[o] |= static_cast<u8>(1u << p);
            chosen[p][o] = static_cast<u8>(v);
            ins |= 1u << p;
            outs_any |= 1u << o;
            ++nreq;
        }
    }
    sa_next_min[r] = next;
    if (!ins) return;
    u8* gptr = &sa_gptr[r * kPorts];
    u8* aptr = &sa_aptr[r * kPorts];
    if (nreq == kPop5[ins] && nreq == kPop5[outs_any]) {
        // No conflicts (one request per input, one per output): iSLIP matches them all in its first
        // iteration and moves both pointers past each match.
        for (u32 m = ins; m;) {
            const int i = __builtin_ctz(m);
            m &= m - 1;
            const int o = __builtin_ctz(reqmask[i]);
            gptr[o] = static_cast<u8>((i + 1) % kPorts);
            aptr[i] = static_cast<u8>((o + 1) % kPorts);
            commit_sa(g, r, i, o, chosen[i][o], c);
        }
        return;
    }
    int in_match[kPorts] = {-1, -1, -1, -1, -1};
    int out_match[kPorts] = {-1, -1, -1, -1, -1};
    u8 in_free = 0x1f;
    for (int it = 0; it < iters; ++it) {
        u8 granted[kPorts] = {0, 0, 0, 0, 0};
        bool anyg = false;
        for (u32 m = outs_any; m;) {
            const int o = __builtin_ctz(m);
            m &= m - 1;
            if (out_match[o] >= 0) continue;
            const u8 cand = outreq[o] & in_free;
            if (!cand) continue;
            const u32 rot = rotr_bits(cand, gptr[o], kPorts);
            int i = __builtin_ctz(rot) + gptr[o];
            if (i >= kPorts) i -= kPorts;
            granted[i] |= static_cast<u8>(1u << o);
            anyg = true;
        }
        if (!anyg) break;
        for (int i = 0; i < kPorts; ++i) {
            if (!granted[i]) continue;
            const u32 rot = rotr_bits(granted[i], aptr[i], kPorts);
            int o = __builtin_ctz(rot) + aptr[i];
            if (o >= kPorts) o -= kPorts;
            in_match[i] = o;
            out_match[o] = i;
            in_free &= static_cast<u8>(~(1u << i));
            if (it == 0) {
                gptr[o] = static_cast<u8>((i + 1) % kPorts);
                aptr[i] = static_cast<u8>((o + 1) % kPorts);
            }
        }
    }
    for (int i = 0; i < kPorts; ++i)
        if (in_match[i] >= 0) commit_sa(g, r, i, in_match[i], chosen[i][in_match[i]], c);
}

void NocSim::Impl::commit_sa(Region& g, u32 r, int p, int o, int v, Cycle c) {
    const u32 iv = (r * kPorts + p) * V + v;
    Flit f = buf[static_cast<std::size_t>(iv) * B + bhead[iv]];
    if (++bhead[iv] == B) bhead[iv] = 0;
    --bcnt[iv];
    --g.buffered;
    const int outvc = voutvc[iv];
    const u32 ov = (r * kPorts + o) * V + outvc;
    --credits[ov];
    ++link_flits[r * kPorts + o];
    const bool tail = f.flags & kTail;
    if (tail) {
        if (wftc) otail[ov] = 1;
        else obusy_mask[r * kPorts + o] &= ~(u32(1) << outvc);
    }
    sa_rr[r * kPorts + p] = static_cast<u8>(v + 1 == V ? 0 : v + 1);

    // Credit to whoever feeds this input buffer.
    Event ce{};
    ce.vc = static_cast<u8>(v);
    if (p == kLocalPort) {
        ce.kind = EvSrcCredit;
        ce.target = r;
        ce.when = static_cast<u32>(c + src_credit_delay);
        push(region_of[r], ce, c + src_credit_delay);
    } else {
        const u32 up = static_cast<u32>(nbr[r * 4 + p]);
        ce.kind = EvCredit;
        ce.target = up;
        ce.port = static_cast<u8>(p ^ 1);
        ce.when = static_cast<u32>(c + credit_rdelay);
        push(region_of[up], ce, c + credit_rdelay);
    }
    // The flit to the next router or to the node.
    f.vc = static_cast<u8>(outvc);
    Event fe{};
    fe.flit = f;
    if (o == kLocalPort) {
        fe.kind = EvEject;
        fe.target = r;
        fe.when = static_cast<u32>(c + eject_delay);
        push(region_of[r], fe, c + eject_delay);
    } else {
        const u32 dn = static_cast<u32>(nbr[r * 4 + o]);
        fe.kind = EvFlit;
        fe.target = dn;
        fe.port = static_cast<u8>(o ^ 1);
        fe.when = static_cast<u32>(c + flit_delay);
        push(region_of[dn], fe, c + flit_delay);
    }
    // The VC's next flit.
    const u32 bit = u32(1) << v;
    if (bcnt[iv] == 0 || tail) {
        u32& sm = sa_mask[r * kPorts + p];
        sm &= ~bit;
        if (!sm) rflags[r] = static_cast<u16>(rflags[r] & ~(u16(1) << (5 + p)));
        if (bcnt[iv] == 0) {
            if (tail) vstate[iv] = Idle;
        } else {
            set_va(r, p, v, iv, c + va_after_tail);
        }
    } else {
        vready[iv] = c + sa_next;
        sa_next_min[r] = std::min(sa_next_min[r], c + sa_next);
    }
}

void NocSim::Impl::step(Region& g, Cycle c) {
    std::vector<Event>& slot = g.wheel[c & wheel_mask];
    if (!slot.empty()) {
        const u32 w = static_cast<u32>(c);
        for (std::size_t i = 0; i < slot.size(); ++i) {
            const Event& e = slot[i];
            if (e.when != w) throw InternalError("noc: event scheduled for another cycle found in the time wheel");
            handle(g, e, c);
        }
        g.wheel_pending -= slot.size();
        slot.clear();
    }
    const Cycle* nc = next_create.data();
    for (u32 n = g.first, end = g.first + g.count; n < end; ++n) {
        if (src_pkt[n] == kNone) {
            if (nc[n] > c) continue;
            create(g, n, c);
        }
        inject(g, n, c);
    }
    for (u32 r = g.first, end = g.first + g.count; r < end; ++r) {
        const u16 f = rflags[r];
        if (!f) continue;
        if (f & 0x1f) vc_alloc(r, c);
        if ((rflags[r] >> 5) && sa_next_min[r] <= c) sw_alloc(g, r, c);
    }
}

Cycle NocSim::Impl::run_region(u32 ri, Cycle from, Cycle to) {
    Region& g = regions[ri];
    g.sleep_until = 0;
    g.waker = nullptr;
    if (from < g.next_cycle) {
        if (to <= g.next_cycle) return g.next_cycle;
        from = g.next_cycle;
    }
    if (from > g.next_cycle) {
        // Events that arrived while the region slept are due at `from` or later.
        if (g.buffered || g.src_busy || min_next_create(g) < from)
            throw InternalError("noc: a region with work was not run (driver skipped cycles)");
        g.st.skipped += from - g.next_cycle;
    }
    Cycle c = from;
    while (c < to) {
        if (g.wheel_pending == 0 && g.buffered == 0 && g.src_busy == 0) {
            const Cycle nx = min_next_create(g);
            if (nx >= to) {
                g.st.skipped += to - c;
                c = to;
                break;
            }
            if (nx > c) {
                g.st.skipped += nx - c;
                c = nx;
            }
        }
        step(g, c);
        ++g.st.stepped;
        ++c;
    }
    g.next_cycle = to;
    if (g.wheel_pending || g.buffered || g.src_busy) return to;
    return min_next_create(g);
}

// ---------------------------------------------------------------------------------------------------

NocSim::NocSim(const NocRouterSpec& spec, const NocRunOptions& opt) : m(std::make_unique<Impl>()) {
    validate_run_options(opt);
    if (spec.vcs < 1 || spec.vcs > 24) throw InputError("", 0, "router.vcs", "expected 1..24 virtual channels");
    const double bytes = static_cast<double>(opt.cols) * opt.rows *
                         (kPorts * spec.vcs * (spec.vc_buffer_flits * 8.0 + 24.0) + 400.0);
    if (bytes > 8e9)
        throw PlanError("noc: a " + std::to_string(opt.rows) + "x" + std::to_string(opt.cols) + " mesh with " +
                        std::to_string(spec.vcs) + " VCs of " + std::to_string(spec.vc_buffer_flits) +
                        " flits needs about " + std::to_string(bytes / 1e9) + " GB of router state (limit 8 GB)");
    m->s = spec;
    m->o = opt;
    m->build();
}

NocSim::~NocSim() = default;

const NocRouterSpec& NocSim::spec() const { return m->s; }
const NocRunOptions& NocSim::options() const { return m->o; }
int NocSim::nodes() const { return m->N; }
int NocSim::region_count() const { return static_cast<int>(m->regions.size()); }
Cycle NocSim::quantum() const { return m->Q; }
Cycle NocSim::horizon() const { return m->horizon; }
void NocSim::set_horizon(Cycle h) { m->horizon = h; }

void NocSim::add_packet(int src, int dst, int flits, Cycle create) {
    if (m->o.traffic != Traffic::Scripted) throw InternalError("noc: add_packet needs scripted traffic");
    if (src < 0 || src >= m->N || dst < 0 || dst >= m->N || flits < 1 || flits > 65535)
        throw InternalError("noc: add_packet: node or size out of range");
    if (create < m->horizon) throw InternalError("noc: add_packet: creation cycle already simulated");
    const u32 n = m->id_of[src];
    auto& q = m->script[n];
    Scripted sc{create, m->id_of[dst], static_cast<u32>(flits)};
    // Keep the not-yet-created part sorted by creation cycle.
    auto it = std::upper_bound(q.begin() + m->script_pos[n], q.end(), create,
                               [](Cycle t, const Scripted& e) { return t < e.ctime; });
    q.insert(it, sc);
    m->next_create[n] = q[m->script_pos[n]].ctime;  // the next packet not yet created
}

void NocSim::block_ejection(int node) {
    if (node < 0 || node >= m->N) throw InternalError("noc: block_ejection: node out of range");
    m->blocked[m->id_of[node]] = 1;
}

Cycle NocSim::run_region(int r, Cycle from, Cycle to) { return m->run_region(static_cast<u32>(r), from, to); }

void NocSim::sleep_region(int r, Cycle until, IRegionWaker* waker) {
    Region& g = m->regions[static_cast<std::size_t>(r)];
    g.sleep_until = until;
    g.waker = waker;
}

void NocSim::advance_plain(Cycle h) {
    Cycle now = m->horizon;
    while (now < h) {
        const Cycle end = std::min(h, now + m->Q);
        for (u32 r = 0; r < m->regions.size(); ++r) m->run_region(r, now, end);
        now = end;
    }
    m->horizon = std::max(m->horizon, h);
}

std::uint64_t NocSim::flits_sent(int node, int port) const { return m->link_flits[m->id_of[node] * kPorts + port]; }
std::uint64_t NocSim::flits_injected(int node) const { return m->inj_flits[m->id_of[node]]; }
std::uint64_t NocSim::flits_ejected(int node) const { return m->ej_flits[m->id_of[node]]; }
std::uint64_t NocSim::flits_held(int node) const { return m->held[m->id_of[node]]; }
const std::vector<PacketRecord>& NocSim::packet_log() const { return m->log; }

std::uint64_t NocSim::packets_outstanding() const {
    const RegionStats t = m->totals();
    u64 pending = 0;
    for (int n = 0; n < m->N; ++n) pending += m->script[n].size() - m->script_pos[n];
    return t.created - t.delivered + pending;
}

Cycle NocSim::run_scripted(Cycle limit) {
    m->W = 0;
    m->E = kNever;
    while (m->horizon < limit && packets_outstanding() > 0) advance_plain(std::min(limit, m->horizon + 64));
    return m->horizon;
}

NocResult NocSim::run_experiment(const Advance& advance, const std::string& kernel_name) {
    Impl& s = *m;
    const Cycle W = s.o.warmup_cycles >= 0 ? static_cast<Cycle>(s.o.warmup_cycles)
                                           : static_cast<Cycle>(s.s.warmup_periods) * static_cast<Cycle>(s.s.sample_period_cycles);
    const Cycle M = s.o.measure_cycles > 0 ? static_cast<Cycle>(s.o.measure_cycles)
                                           : static_cast<Cycle>(s.s.measure_periods) * static_cast<Cycle>(s.s.sample_period_cycles);
    s.W = W;
    s.E = W + M;
    NocResult res;
    res.kernel = kernel_name;
    res.regions = static_cast<int>(s.regions.size());
    res.warmup_cycles = W;
    res.measure_cycles = M;
    const auto t0 = std::chrono::steady_clock::now();

    if (W > 0) advance(W);
    const double lag_w = s.mean_lag(W);
    advance(s.E);
    const double lag_e = s.mean_lag(s.E);
    Cycle h = s.E;
    const double growth = (lag_e - lag_w) / static_cast<double>(M);
    auto fmt = [](double v) {
        char b[64];
        std::snprintf(b, sizeof b, "%.4g", v);
        return std::string(b);
    };
    if (growth > s.s.backlog_growth_threshold) {
        res.saturated = true;
        res.saturation_reason = "source queues grow: mean backlog +" + fmt(lag_e - lag_w) + " cycles over the " +
                                std::to_string(M) + "-cycle window (threshold " + fmt(s.s.backlog_growth_threshold) + " of it)";
    } else if (s.latency_with_inflight(h) > s.s.latency_threshold_cycles) {
        res.saturated = true;
        res.saturation_reason = "average latency " + fmt(s.latency_with_inflight(h)) + " cycles exceeds latency_threshold " +
                                fmt(s.s.latency_threshold_cycles);
    } else {
        // Drain: run until every packet created in the window has arrived (packets keep being generated).
        const Cycle limit = s.E + static_cast<Cycle>(s.s.drain_limit_cycles);
        Cycle last_check = h;
        while (s.measured_pending()) {
            if (h >= limit) {
                res.saturated = true;
                res.saturation_reason = "measured packets still in flight after drain_limit (" +
                                        std::to_string(s.s.drain_limit_cycles) + " cycles)";
                break;
            }
            h = std::min(limit, h + 32);
            advance(h);
            if (h - last_check >= 1000) {
                last_check = h;
                const double lat = s.latency_with_inflight(h);
                if (lat > s.s.latency_threshold_cycles) {
                    res.saturated = true;
                    res.saturation_reason = "average latency " + fmt(lat) + " cycles exceeds latency_threshold " +
                                            fmt(s.s.latency_threshold_cycles) + " while draining";
                    break;
                }
            }
        }
    }
    res.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    s.horizon = std::max(s.horizon, h);
    // Regions asleep at the end (idle) have not yet counted their skipped cycles.
    for (auto& g : s.regions)
        if (g.next_cycle < h) {
            g.st.skipped += h - g.next_cycle;
            g.next_cycle = h;
        }
    const RegionStats t = s.totals();
    const double nm = static_cast<double>(s.N) * static_cast<double>(M);
    res.accepted_throughput = static_cast<double>(t.window_accepted) / nm;
    res.injected_throughput = static_cast<double>(t.window_injected) / nm;
    res.packets_measured = t.measured_done;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    if (t.measured_done > 0) {
        const double d = static_cast<double>(t.measured_done);
        res.avg_packet_latency = static_cast<double>(t.sum_plat) / d;
        res.avg_network_latency = static_cast<double>(t.sum_nlat) / d;
        res.avg_hops = static_cast<double>(t.sum_hops) / d;
        res.max_packet_latency = static_cast<double>(t.max_plat);
    } else {
        res.avg_packet_latency = res.avg_network_latency = res.avg_hops = res.max_packet_latency = nan;
    }
    if (res.saturated) res.avg_packet_latency = res.avg_network_latency = res.max_packet_latency = nan;
    res.sim_cycles = h;
    res.region_cycles_stepped = t.stepped;
    res.region_cycles_skipped = t.skipped;
    res.router_cycles_per_s = res.wall_s > 0 ? static_cast<double>(s.N) * static_cast<double>(h) / res.wall_s : 0;
    return res;
}

NocResult NocSim::run_plain() {
    return run_experiment([this](Cycle h) { advance_plain(h); }, "plain");
}

}  // namespace wafersim::fabric::noc

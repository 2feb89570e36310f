// Parameter tables, diagnostics and the flat YAML reader: defaults, every kind of bad value with its
// message, all errors collected together, dotted keys with 1-based lines.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/base/errors.hpp"
#include "sim/base/params.hpp"
#include "sim/base/yaml_tree.hpp"

using namespace wafersim;

namespace {

ParamDef def(std::string key, ParamType t, std::string dflt, double lo = -1e300, double hi = 1e300) {
    ParamDef d;
    d.key = std::move(key);
    d.type = t;
    d.default_value = std::move(dflt);
    d.min = lo;
    d.max = hi;
    d.doc = "test parameter";
    return d;
}

const ParamTable& table() {
    static const ParamTable t("demo", [] {
        ParamDef sram = def("core.sram", ParamType::Quantity, "", 1, 1e12);
        sram.unit = UnitKind::Bytes;
        sram.required = true;
        ParamDef clock = def("clock", ParamType::Quantity, "1.1GHz", 1e6, 1e11);
        clock.unit = UnitKind::Frequency;
        ParamDef algo = def("allreduce", ParamType::Enum, "tree");
        algo.choices = {"pipeline", "ring", "tree"};
        return std::vector<ParamDef>{sram,
                                     clock,
                                     def("batch", ParamType::Int, "1", 1, 65536),
                                     def("efficiency", ParamType::Real, "0.5", 0.01, 1),
                                     algo,
                                     def("grid", ParamType::Grid, "auto"),
                                     def("trace", ParamType::Bool, "false"),
                                     def("label", ParamType::String, "none")};
    }());
    return t;
}

FlatConfig yaml(const std::string& text) { return parse_yaml_flat(text, "demo.yaml"); }

// Resolves and returns the diagnostics (empty when the input is valid).
std::vector<Diagnostic> problems(const std::string& text) {
    DiagnosticSink sink;
    table().resolve(yaml(text), sink);
    return sink.diagnostics();
}

// The single diagnostic for `text`; fails the test when there is not exactly one.
Diagnostic one_problem(const std::string& text) {
    auto d = problems(text);
    EXPECT_EQ(d.size(), 1u) << text;
    return d.empty() ? Diagnostic{} : d.front();
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// The InputError's diagnostics thrown by f, or {} when nothing was thrown.
template <class F>
std::vector<Diagnostic> input_error_of(F f) {
    try {
        f();
    } catch (const InputError& e) {
        return e.diagnostics();
    }
    return {};
}

}  // namespace

TEST(ParamTable, ResolvesWithDefaultsAndRecordsWhereValuesCameFrom) {
    DiagnosticSink sink;
    const ParamSet p = table().resolve(yaml("core:\n  sram: 48KiB\nbatch: 8\ngrid: 420x210\n"), sink);
    ASSERT_TRUE(sink.empty()) << sink.diagnostics().front().to_string();
    EXPECT_EQ(p.table(), "demo");
    EXPECT_DOUBLE_EQ(p.num("core.sram"), 49152);
    EXPECT_EQ(p.value("core.sram").file, "demo.yaml");
    EXPECT_EQ(p.value("core.sram").line, 2);
    EXPECT_DOUBLE_EQ(p.num("clock"), 1.1e9);
    EXPECT_EQ(p.value("clock").file, "<default>");
    EXPECT_EQ(p.integer("batch"), 8);
    EXPECT_DOUBLE_EQ(p.num("efficiency"), 0.5);
    EXPECT_EQ(p.str("allreduce"), "tree");
    EXPECT_EQ(p.grid("grid"), std::make_pair(std::int64_t{420}, std::int64_t{210}));
    EXPECT_FALSE(p.flag("trace"));
    EXPECT_EQ(p.str("label"), "none");
    EXPECT_THROW(p.num("nonexistent"), InternalError);
}

TEST(ParamTable, AutoGridAndBooleans) {
    DiagnosticSink sink;
    const ParamSet p = table().resolve(yaml("core: {sram: 1KiB}\ntrace: yes\n"), sink);
    ASSERT_TRUE(sink.empty());
    EXPECT_EQ(p.grid("grid"), std::make_pair(std::int64_t{0}, std::int64_t{0}));
    EXPECT_TRUE(p.flag("trace"));
    const auto d = one_problem("core: {sram: 1KiB}\ntrace: maybe\n");
    EXPECT_EQ(d.key, "trace");
    EXPECT_TRUE(contains(d.message, "write true or false")) << d.message;
}

TEST(ParamTable, MissingRequiredKey) {
    const auto d = one_problem("batch: 2\n");
    EXPECT_EQ(d.key, "core.sram");
    EXPECT_EQ(d.file, "demo.yaml");
    EXPECT_TRUE(contains(d.message, "missing required key")) << d.message;
    EXPECT_TRUE(contains(d.message, "quantity (bytes)")) << d.message;
}

TEST(ParamTable, UnknownKeyWithDidYouMean) {
    const auto d = one_problem("core:\n  sram: 48KiB\n  sramm: 1KiB\n");
    EXPECT_EQ(d.key, "core.sramm");
    EXPECT_EQ(d.line, 3);
    EXPECT_EQ(d.message, "unknown key; did you mean \"core.sram\"?");
    const auto far = one_problem("core: {sram: 48KiB}\nzzzzzz: 1\n");
    EXPECT_TRUE(contains(far.message, "wafersim describe demo")) << far.message;
}

TEST(ParamTable, ListOrMappingWhereAScalarIsExpected) {
    const auto list = one_problem("core:\n  sram: [48KiB, 1KiB]\n");
    EXPECT_EQ(list.key, "core.sram");
    EXPECT_TRUE(contains(list.message, "expected quantity (bytes), found a list")) << list.message;
    const auto map = one_problem("core: {sram: 1KiB}\nclock:\n  value: 1.1\n  unit: GHz\n");
    EXPECT_EQ(map.key, "clock");
    EXPECT_TRUE(contains(map.message, "found a mapping")) << map.message;
}

TEST(ParamTable, OutOfRangeSaysTheRange) {
    const auto d = one_problem("core: {sram: 1KiB}\nbatch: 0\n");
    EXPECT_EQ(d.key, "batch");
    EXPECT_EQ(d.line, 2);
    EXPECT_TRUE(contains(d.message, "out of range; expected between 1 and 65536")) << d.message;
    const auto q = one_problem("core: {sram: 1KiB}\nclock: 1kHz\n");
    EXPECT_TRUE(contains(q.message, "between 1MHz and 100GHz")) << q.message;
    const auto e = one_problem("core: {sram: 1KiB}\nefficiency: 1.5\n");
    EXPECT_TRUE(contains(e.message, "between 0.01 and 1")) << e.message;
}

TEST(ParamTable, EnumWithDidYouMean) {
    const auto d = one_problem("core: {sram: 1KiB}\nallreduce: tre\n");
    EXPECT_EQ(d.key, "allreduce");
    EXPECT_EQ(d.message, "\"tre\" is not one of {pipeline|ring|tree}; did you mean \"tree\"?");
}

TEST(ParamTable, Grids) {
    std::int64_t r = 0, c = 0;
    EXPECT_TRUE(parse_grid("420x420", r, c));
    EXPECT_EQ(r, 420);
    EXPECT_EQ(c, 420);
    EXPECT_TRUE(parse_grid("2X3", r, c));
    for (const char* bad : {"0x5", "5x0", "4x", "x4", "axb", "1e9x1e9", "4x4x4", "-4x4", "", "auto", "4 x 4",
                            "1234567890x1"})
        EXPECT_FALSE(parse_grid(bad, r, c)) << bad;
    for (const char* bad : {"0x5", "4x", "axb", "1e9x1e9"}) {
        const auto d = one_problem(std::string("core: {sram: 1KiB}\ngrid: ") + bad + "\n");
        EXPECT_EQ(d.key, "grid");
        EXPECT_TRUE(contains(d.message, "is not a grid")) << d.message;
    }
    const auto big = one_problem("core: {sram: 1KiB}\ngrid: 200000x4\n");
    EXPECT_TRUE(contains(big.message, "larger than any wafer")) << big.message;
}

TEST(ParamTable, IntegersRejectFractionsAndJunk) {
    for (const char* bad : {"3.5", "1e3", "0x10", "eight", "12345678901234567"}) {
        const auto d = one_problem(std::string("core: {sram: 1KiB}\nbatch: ") + bad + "\n");
        EXPECT_EQ(d.key, "batch") << bad;
        EXPECT_TRUE(contains(d.message, bad)) << d.message;
    }
    EXPECT_TRUE(contains(one_problem("core: {sram: 1KiB}\nbatch: 3.5\n").message, "is not an integer"));
}

TEST(ParamTable, EmptyValueIsAnError) {
    const auto d = one_problem("core: {sram: 1KiB}\nclock:\n");
    EXPECT_EQ(d.key, "clock");
    EXPECT_TRUE(contains(d.message, "empty value")) << d.message;
}

TEST(ParamTable, EveryProblemIsCollected) {
    const auto d = problems("batch: 0\nclock: 48KB\nallreduce: rong\nbogus: 1\n");
    ASSERT_EQ(d.size(), 5u);
    std::string all;
    for (const auto& x : d) all += x.to_string() + "\n";
    for (const char* key : {"bogus", "core.sram", "clock", "batch", "allreduce"})
        EXPECT_TRUE(contains(all, std::string(key) + ": ")) << key << " missing in\n" << all;

    const auto thrown = input_error_of([] { table().resolve_or_throw(yaml("batch: 0\nclock: 48KB\n")); });
    EXPECT_EQ(thrown.size(), 3u);
}

TEST(ParamTable, SetOverridesAreQualifiedWithTheTablePrefix) {
    FlatConfig cfg = yaml("core: {sram: 1KiB}\n");
    set_flat(cfg, "batch", "0", "--set");
    set_flat(cfg, "clok", "1GHz", "--set");
    DiagnosticSink sink;
    table().resolve(cfg, sink);
    ASSERT_EQ(sink.diagnostics().size(), 2u);
    EXPECT_EQ(sink.diagnostics()[0].to_string(), "--set: demo.clok: unknown key; did you mean \"demo.clock\"?");
    EXPECT_EQ(sink.diagnostics()[1].key, "demo.batch");
}

TEST(ParamTable, InvalidDefaultIsAnInternalError) {
    EXPECT_THROW(ParamTable("bad", {def("n", ParamType::Int, "1.5")}), InternalError);
}

TEST(ParamTable, DescribeType) {
    EXPECT_EQ(describe_type(*table().find("core.sram")), "quantity (bytes)");
    EXPECT_EQ(describe_type(*table().find("allreduce")), "one of {pipeline|ring|tree}");
    EXPECT_EQ(describe_type(*table().find("grid")), "grid RxC or auto");
    EXPECT_EQ(describe_type(*table().find("batch")), "integer");
    EXPECT_EQ(table().find("nope"), nullptr);
}

TEST(Diagnostics, ToStringFormat) {
    EXPECT_EQ((Diagnostic{"configs/wafers/x.yaml", 14, "core.sram", "bad"}).to_string(),
              "configs/wafers/x.yaml:14: core.sram: bad");
    EXPECT_EQ((Diagnostic{"x.yaml", 0, "core.sram", "bad"}).to_string(), "x.yaml: core.sram: bad");
    EXPECT_EQ((Diagnostic{"x.yaml", 3, "", "bad"}).to_string(), "x.yaml:3: bad");
    EXPECT_EQ((Diagnostic{"", 0, "k", "bad"}).to_string(), "k: bad");
    const InputError e({{"a.yaml", 1, "k1", "m1"}, {"b.yaml", 2, "k2", "m2"}});
    EXPECT_STREQ(e.what(), "a.yaml:1: k1: m1\nb.yaml:2: k2: m2");
    EXPECT_EQ(e.diagnostics().size(), 2u);
}

TEST(Diagnostics, DidYouMean) {
    const std::vector<std::string> sections = {"wafer", "gpu", "mapping", "workload", "precision", "baseline"};
    EXPECT_EQ(did_you_mean("mapp", sections), "mapping");  // an abbreviation
    EXPECT_EQ(did_you_mean("wafr", sections), "wafer");
    EXPECT_EQ(did_you_mean("precison", sections), "precision");
    EXPECT_EQ(did_you_mean("zzzzzz", sections), "");
    EXPECT_EQ(did_you_mean("tre", {"pipeline", "ring", "tree"}), "tree");
    EXPECT_EQ(did_you_mean("x", {}), "");
}

TEST(YamlFlat, NestedMapsBecomeDottedKeysWithLines) {
    const FlatConfig f = yaml("# comment\nname: w\ncore:\n  sram: 48KiB\n  fmac:\n    fp16: 8\nclock: 1.1GHz\n");
    ASSERT_EQ(f.size(), 4u);
    EXPECT_EQ(f[0].key, "name");
    EXPECT_EQ(f[0].line, 2);
    EXPECT_EQ(f[1].key, "core.sram");
    EXPECT_EQ(f[1].value, "48KiB");
    EXPECT_EQ(f[1].line, 4);
    EXPECT_EQ(f[1].file, "demo.yaml");
    EXPECT_EQ(f[2].key, "core.fmac.fp16");
    EXPECT_EQ(f[2].line, 6);
    EXPECT_EQ(f[3].key, "clock");
    EXPECT_EQ(f[3].line, 7);
}

TEST(YamlFlat, SequencesGetIndexKeysAndNullsAreMarked) {
    const FlatConfig f = yaml("axes:\n  - a\n  - b\nempty: ~\nnone: []\n");
    ASSERT_EQ(f.size(), 4u);
    EXPECT_EQ(f[0].key, "axes.0");
    EXPECT_EQ(f[0].line, 2);
    EXPECT_EQ(f[1].key, "axes.1");
    EXPECT_EQ(f[1].value, "b");
    EXPECT_EQ(f[2].key, "empty");
    EXPECT_TRUE(f[2].is_null);
    EXPECT_EQ(f[3].key, "none");
    EXPECT_TRUE(f[3].is_null);
}

TEST(YamlFlat, BadDocumentsNameFileAndLine) {
    auto first = [](const std::string& text) {
        auto d = input_error_of([&] { parse_yaml_flat(text, "bad.yaml"); });
        return d.empty() ? Diagnostic{"(nothing thrown)", 0, "", ""} : d.front();
    };
    EXPECT_TRUE(contains(first("").message, "file is empty"));
    EXPECT_TRUE(contains(first("  \n\t\n").message, "file is empty"));
    EXPECT_TRUE(contains(first("wse3\n").message, "expected a YAML mapping"));
    EXPECT_TRUE(contains(first("- a\n- b\n").message, "expected a YAML mapping"));
    const Diagnostic m = first("a: 1\nb: [1, 2\n");
    EXPECT_EQ(m.file, "bad.yaml");
    EXPECT_GE(m.line, 2);
    EXPECT_TRUE(contains(m.message, "malformed YAML")) << m.message;
    const Diagnostic tab = first("a:\n  b: 1\n\tc: 2\n");
    EXPECT_TRUE(contains(tab.message, "malformed YAML")) << tab.message;
    EXPECT_EQ(tab.line, 3);
    const Diagnostic dot = first("a: 1\ncore.sram: 48KiB\n");
    EXPECT_EQ(dot.key, "core.sram");
    EXPECT_EQ(dot.line, 2);
    EXPECT_TRUE(contains(dot.message, "without '.'")) << dot.message;
    const Diagnostic dup = first("a: 1\nb:\n  c: 1\n  c: 2\n");
    EXPECT_EQ(dup.key, "b.c");
    EXPECT_EQ(dup.line, 4);
    EXPECT_TRUE(contains(dup.message, "more than once")) << dup.message;
}

TEST(YamlFlat, SetFlatAndSubtree) {
    FlatConfig f = yaml("core:\n  sram: 48KiB\nclock: 1.1GHz\n");
    set_flat(f, "core.sram", "96KiB", "--set");
    set_flat(f, "core.banks", "4", "--set");
    const FlatConfig core = subtree(f, "core");
    ASSERT_EQ(core.size(), 2u);
    EXPECT_EQ(core[0].key, "sram");
    EXPECT_EQ(core[0].value, "96KiB");
    EXPECT_EQ(core[0].file, "--set");
    EXPECT_EQ(core[0].line, 0);
    EXPECT_EQ(core[1].key, "banks");
    EXPECT_TRUE(subtree(f, "cor").empty());
}

TEST(YamlFlat, ReadTextFileErrors) {
    const std::string dir = std::string(WAFERSIM_SOURCE_DIR) + "/configs";
    auto d = input_error_of([&] { read_text_file(dir); });
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].file, dir);
    EXPECT_TRUE(contains(d[0].message, "is a directory")) << d[0].message;
    d = input_error_of([&] { read_yaml_flat(dir + "/no-such-file.yaml"); });
    ASSERT_EQ(d.size(), 1u);
    EXPECT_TRUE(contains(d[0].message, "no such file")) << d[0].message;
    EXPECT_FALSE(read_text_file(dir + "/wafers/wse3.yaml").empty());
}

// Regression tests of what the fuzzers of tools/fuzz found (docs/fuzzing.md): each input crashed, hung,
// let an exception other than InputError escape, or was wrongly accepted before its fix.
#include <gtest/gtest.h>

#include <cfloat>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <string>

#include "models/model_spec.hpp"
#include "sim/base/errors.hpp"
#include "sim/base/params.hpp"
#include "sim/base/units.hpp"
#include "sim/base/yaml_tree.hpp"

using namespace wafersim;

namespace {

constexpr UnitKind kKinds[] = {UnitKind::None,   UnitKind::Bytes,  UnitKind::Bits,      UnitKind::Frequency,
                               UnitKind::Time,   UnitKind::Cycles, UnitKind::Bandwidth, UnitKind::Power,
                               UnitKind::FlopRate};

std::string message_of(const std::string& text, UnitKind kind) {
    try {
        parse_quantity(text, kind);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "";
}

// A small valid Llama config with `extra` spliced in before the closing brace.
std::string llama(const std::string& extra = "") {
    return R"({"model_type": "llama", "hidden_size": 256, "intermediate_size": 512, "num_hidden_layers": 4,
               "num_attention_heads": 8, "num_key_value_heads": 2, "vocab_size": 1000,
               "max_position_embeddings": 4096, "torch_dtype": "bfloat16")" +
           extra + "}";
}

std::string import_error(const std::string& json) {
    try {
        models::import_hf_config_text(json, "fuzz/config.json");
    } catch (const InputError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

// fuzz_units: "7e-308b/s" is 8.75e-309 B/s, a subnormal that format_quantity wrote as "8.75e-309B/s",
// which does not parse back. Results that small are now rejected like overflowing ones.
TEST(FuzzRegressions, SubnormalQuantitiesAreOutOfRange) {
    EXPECT_NE(message_of("7e-308b/s", UnitKind::Bandwidth).find("out of range (too small to represent)"),
              std::string::npos);
    EXPECT_NE(message_of("3e-300ps", UnitKind::Time).find("out of range"), std::string::npos);
    EXPECT_NE(message_of("1e-310", UnitKind::None).find("too small to represent"), std::string::npos);
    EXPECT_EQ(parse_quantity("0e-999B", UnitKind::Bytes), 0.0);
}

// fuzz_units: at the ends of the double range six significant digits round past it
// ("2.2250738585072014e-308B" came back as "2.22507e-308B", a subnormal). format_quantity now falls back
// to the exact value in the base unit there; everything parse_quantity returns formats back.
TEST(FuzzRegressions, FormatRoundTripsAtTheEndsOfTheDoubleRange) {
    EXPECT_EQ(format_quantity(DBL_MIN, UnitKind::Bytes), "2.2250738585072014e-308B");
    for (UnitKind kind : kKinds) {
        for (double v : {DBL_MAX, -DBL_MAX, std::nextafter(DBL_MAX, 0.0), 1.7976905e308, 1e300, DBL_MIN, -DBL_MIN,
                         2.2250739e-308, 1e-290, 0.0}) {
            const std::string text = format_quantity(v, kind);
            double back = 0;
            ASSERT_NO_THROW(back = parse_quantity(text, kind)) << unit_kind_name(kind) << " " << v << " -> " << text;
            EXPECT_LE(std::fabs(back - v), 1e-5 * std::fabs(v)) << unit_kind_name(kind) << " " << text;
        }
    }
    // The readable form is kept wherever it round-trips.
    EXPECT_EQ(format_quantity(49152, UnitKind::Bytes), "48KiB");
    EXPECT_EQ(format_quantity(1e300, UnitKind::Frequency), "1e+291GHz");
}

// Review of a fuzz invariant: an integer parameter accepted a lone sign ("-", "+") as 0.
TEST(FuzzRegressions, LoneSignIsNotAnInteger) {
    const ParamDef d = param_int("usable.col0", "0", 0, 100000, "doc", "source");
    for (const char* text : {"-", "+"}) {
        double n = 0;
        std::string err;
        EXPECT_FALSE(ParamTable::parse_value(d, text, n, err)) << text;
        EXPECT_NE(err.find("is not an integer"), std::string::npos) << err;
    }
    double n = 0;
    std::string err;
    EXPECT_TRUE(ParamTable::parse_value(d, "-0", n, err)) << err;
    EXPECT_TRUE(ParamTable::parse_value(d, "+7", n, err)) << err;
    EXPECT_EQ(n, 7);
}

// fuzz_wafer_yaml: YAML aliases share nodes, so nine short lines expand to 10^9 values; flattening them
// ran out of memory. The walk now stops at 100000 nodes with an InputError.
TEST(FuzzRegressions, YamlAliasBombIsRejectedQuickly) {
    std::string text = "name: x\nnotes:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n";
    for (char c = 'b'; c <= 'i'; ++c) {
        const char prev = static_cast<char>(c - 1);
        text += std::string("  ") + c + ": &" + c + " [";
        for (int i = 0; i < 10; ++i) text += std::string(i ? ", " : "") + "*" + prev;
        text += "]\n";
    }
    const auto t0 = std::chrono::steady_clock::now();
    try {
        parse_yaml_flat(text, "bomb.yaml");
        ADD_FAILURE() << "an alias bomb was accepted";
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("more than 100000 values"), std::string::npos) << e.what();
        EXPECT_EQ(e.diagnostics().at(0).file, "bomb.yaml");
    }
    // Not a timing assertion on the simulator: a sanity bound, 100x above the observed time.
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(30));
}

// fuzz_wafer_yaml: an alias inside its own anchor makes the node graph cyclic; flattening recursed until
// the stack overflowed. Nesting is now limited to 64 levels.
TEST(FuzzRegressions, RecursiveYamlAliasIsRejected) {
    for (const char* text : {"name: x\nnotes: &a [1, *a]\n", "name: x\nnotes: &a {k: *a}\n"}) {
        try {
            parse_yaml_flat(text, "cycle.yaml");
            ADD_FAILURE() << "a cyclic alias was accepted: " << text;
        } catch (const InputError& e) {
            EXPECT_NE(std::string(e.what()).find("cycle.yaml:2: notes."), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find("nested more than 64 levels deep"), std::string::npos) << e.what();
        }
    }
    // Ordinary aliases still work.
    const FlatConfig flat = parse_yaml_flat("a: &x 48KiB\nb: *x\n", "alias.yaml");
    ASSERT_EQ(flat.size(), 2u);
    EXPECT_EQ(flat[1].key, "b");
    EXPECT_EQ(flat[1].value, "48KiB");
}

// fuzz_hf_config: a number beyond double range made nlohmann::json throw out_of_range, which escaped
// import_hf_config_text (the command line reported an internal error instead of exit code 2).
TEST(FuzzRegressions, JsonNumberOverflowIsAnInputError) {
    const std::string err = import_error("{\n\"model_type\": \"llama\",\n\"hidden_size\": 1E336\n}");
    EXPECT_NE(err.find("fuzz/config.json:3: malformed JSON"), std::string::npos) << err;
    EXPECT_NE(err.find("1E336"), std::string::npos) << err;
}

// fuzz_hf_config: layer_types with num_hidden_layers absent (or invalid) wrote past an empty vector.
TEST(FuzzRegressions, LayerTypesWithoutLayerCountIsAnInputError) {
    std::string json = llama(R"(, "sliding_window": 128, "layer_types": ["sliding_attention", "full_attention", "x"])");
    const std::string no_layers = std::string(json).replace(json.find("\"num_hidden_layers\": 4,"), 23, "");
    const std::string err = import_error(no_layers);
    EXPECT_NE(err.find("num_hidden_layers: missing required key"), std::string::npos) << err;
    EXPECT_NE(err.find("entry 2 is \"x\""), std::string::npos) << err;  // the entries are still checked
    const std::string bad_layers = std::string(json).replace(json.find("\"num_hidden_layers\": 4"), 22,
                                                             "\"num_hidden_layers\": -4");
    EXPECT_NE(import_error(bad_layers).find("num_hidden_layers"), std::string::npos);
}

// fuzz_hf_config: every size within its own limit, but hidden 1e7 x intermediate 1e8 x 1e4 layers
// overflowed the int64 parameter count (UB in ModelSpec::parameters()). The importer bounds the whole.
TEST(FuzzRegressions, ModelBeyondAnyModelIsAnInputError) {
    std::string json = llama();
    json.replace(json.find("\"hidden_size\": 256"), 18, "\"hidden_size\": 10000000");
    json.replace(json.find("\"intermediate_size\": 512"), 24, "\"intermediate_size\": 100000000");
    json.replace(json.find("\"num_hidden_layers\": 4"), 22, "\"num_hidden_layers\": 10000");
    json.replace(json.find("\"num_attention_heads\": 8, \"num_key_value_heads\": 2"), 50,
                 "\"num_attention_heads\": 1, \"head_dim\": 1");
    const std::string err = import_error(json);
    EXPECT_NE(err.find("hidden_size: the model would have about 3e+19 parameters, beyond any model"), std::string::npos)
        << err;
    // The largest published models stay far below the bound.
    EXPECT_NO_THROW(models::import_hf_config(std::string(WAFERSIM_SOURCE_DIR) + "/configs/models/llama-3.1-405b.json"));
}

// Review: quantization_config "bits" was read as int, so 4294967304 (2^32 + 8) became 8 bits.
TEST(FuzzRegressions, QuantizationBitsAreNotTruncated) {
    const std::string err =
        import_error(llama(R"(, "quantization_config": {"quant_method": "gptq", "bits": 4294967304})"));
    EXPECT_NE(err.find("quantization_config.quant_method"), std::string::npos) << err;
    EXPECT_EQ(import_error(llama(R"(, "quantization_config": {"quant_method": "gptq", "bits": 4})")), "");
}

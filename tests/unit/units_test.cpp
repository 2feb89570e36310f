// Unit parsing: every kind parses, ambiguous / missing / wrong / unknown units and non-finite numbers are
// rejected with a message that says what to write, and format_quantity round-trips.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "sim/base/units.hpp"

using namespace wafersim;

namespace {

// The message of the std::invalid_argument thrown by parse_quantity, or "" when it parsed.
std::string rejection(const std::string& text, UnitKind kind) {
    try {
        parse_quantity(text, kind);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(Units, EveryKindParses) {
    EXPECT_DOUBLE_EQ(parse_quantity("48KiB", UnitKind::Bytes), 49152);
    EXPECT_DOUBLE_EQ(parse_quantity("44kB", UnitKind::Bytes), 44000);
    EXPECT_DOUBLE_EQ(parse_quantity(" 44 kB ", UnitKind::Bytes), 44000);
    EXPECT_DOUBLE_EQ(parse_quantity("4176B", UnitKind::Bytes), 4176);
    EXPECT_DOUBLE_EQ(parse_quantity("1.1GHz", UnitKind::Frequency), 1.1e9);
    EXPECT_DOUBLE_EQ(parse_quantity("3.35TB/s", UnitKind::Bandwidth), 3.35e12);
    EXPECT_DOUBLE_EQ(parse_quantity("100Gb/s", UnitKind::Bandwidth), 12.5e9);
    EXPECT_DOUBLE_EQ(parse_quantity("2cycles", UnitKind::Cycles), 2);
    EXPECT_DOUBLE_EQ(parse_quantity("1cycle", UnitKind::Cycles), 1);
    EXPECT_DOUBLE_EQ(parse_quantity("1.2us", UnitKind::Time), 1.2e-6);
    EXPECT_DOUBLE_EQ(parse_quantity("5ns", UnitKind::Time), 5e-9);
    EXPECT_DOUBLE_EQ(parse_quantity("23kW", UnitKind::Power), 23e3);
    EXPECT_DOUBLE_EQ(parse_quantity("989TFLOP/s", UnitKind::FlopRate), 989e12);
    EXPECT_DOUBLE_EQ(parse_quantity("32bit", UnitKind::Bits), 32);
    EXPECT_DOUBLE_EQ(parse_quantity("0.73", UnitKind::None), 0.73);
    EXPECT_DOUBLE_EQ(parse_quantity("1e3", UnitKind::None), 1000);
}

TEST(Units, AmbiguousSpellingsSuggestBothAndTheSuggestionsParse) {
    const std::string kb = rejection("48KB", UnitKind::Bytes);
    EXPECT_NE(kb.find("ambiguous"), std::string::npos) << kb;
    EXPECT_NE(kb.find("48KiB"), std::string::npos) << kb;
    EXPECT_NE(kb.find("48kB"), std::string::npos) << kb;
    EXPECT_DOUBLE_EQ(parse_quantity("48KiB", UnitKind::Bytes), 49152);

    const std::string kbit = rejection("1Kb", UnitKind::Bits);
    EXPECT_NE(kbit.find("ambiguous"), std::string::npos) << kbit;
    EXPECT_NE(kbit.find("1Kib"), std::string::npos) << kbit;
    EXPECT_NE(kbit.find("1kb"), std::string::npos) << kbit;
    // What the message tells the user to write must be accepted.
    EXPECT_DOUBLE_EQ(parse_quantity("1Kib", UnitKind::Bits), 1024);
    EXPECT_DOUBLE_EQ(parse_quantity("1kb", UnitKind::Bits), 1000);

    const std::string kbs = rejection("10KB/s", UnitKind::Bandwidth);
    EXPECT_NE(kbs.find("ambiguous"), std::string::npos) << kbs;
    EXPECT_DOUBLE_EQ(parse_quantity("10KiB/s", UnitKind::Bandwidth), 10240);
    EXPECT_DOUBLE_EQ(parse_quantity("10kB/s", UnitKind::Bandwidth), 10000);
}

TEST(Units, BadValuesAreRejectedWithAReason) {
    struct Case {
        const char* text;
        UnitKind kind;
        const char* fragment;
    };
    const Case cases[] = {
        {"49152", UnitKind::Bytes, "has no unit"},
        {"48KiB", UnitKind::Frequency, "is bytes, but frequency is expected"},
        {"1.1GHz", UnitKind::Bytes, "is frequency, but bytes is expected"},
        {"3.35TB", UnitKind::Bandwidth, "is bytes, but bandwidth is expected"},
        {"1.1GHZ", UnitKind::Frequency, "unknown unit \"GHZ\""},
        {"48 furlongs", UnitKind::Bytes, "unknown unit"},
        {"2", UnitKind::Cycles, "has no unit"},
        {"5W", UnitKind::None, "plain number is expected"},
        {"nan", UnitKind::None, "not a decimal number"},
        {"nanKiB", UnitKind::Bytes, "not a decimal number"},
        {"inf", UnitKind::None, "not a decimal number"},
        {"-infGHz", UnitKind::Frequency, "not a decimal number"},
        {"0x10", UnitKind::None, "not a decimal number"},
        {"0x10KiB", UnitKind::Bytes, "not a decimal number"},
        {"", UnitKind::Bytes, "empty value"},
        {"   ", UnitKind::None, "empty value"},
        {"KiB", UnitKind::Bytes, "does not start with a number"},
        {"1e999", UnitKind::None, "not a finite number"},
        {"1e999KiB", UnitKind::Bytes, "not a finite number"},
        {"1e308TiB", UnitKind::Bytes, "out of range"},
    };
    for (const auto& c : cases) {
        const std::string msg = rejection(c.text, c.kind);
        EXPECT_NE(msg.find(c.fragment), std::string::npos)
            << "\"" << c.text << "\" as " << unit_kind_name(c.kind) << ": expected \"" << c.fragment
            << "\" in: " << (msg.empty() ? "(accepted)" : msg);
    }
}

TEST(Units, FormatPicksAReadablePrefix) {
    EXPECT_EQ(format_quantity(49152, UnitKind::Bytes), "48KiB");
    EXPECT_EQ(format_quantity(44000, UnitKind::Bytes), "44kB");
    EXPECT_EQ(format_quantity(1e12, UnitKind::Bytes), "1TB");  // not 9.76562e+08KiB
    EXPECT_EQ(format_quantity(40e9, UnitKind::Bytes), "40GB");
    EXPECT_EQ(format_quantity(1.1e9, UnitKind::Frequency), "1.1GHz");
    EXPECT_EQ(format_quantity(3.35e12, UnitKind::Bandwidth), "3.35TB/s");
    EXPECT_EQ(format_quantity(1.2e-6, UnitKind::Time), "1.2us");
    EXPECT_EQ(format_quantity(2, UnitKind::Cycles), "2cycles");
    EXPECT_EQ(format_quantity(23e3, UnitKind::Power), "23kW");
    EXPECT_EQ(format_quantity(989e12, UnitKind::FlopRate), "989TFLOP/s");
    EXPECT_EQ(format_quantity(32, UnitKind::Bits), "32bit");
}

TEST(Units, FormatRoundTrips) {
    struct Case {
        double value;
        UnitKind kind;
    };
    const Case cases[] = {
        {49152, UnitKind::Bytes},        {44000, UnitKind::Bytes},      {4176, UnitKind::Bytes},
        {196608, UnitKind::Bytes},       {80e9, UnitKind::Bytes},       {141e9, UnitKind::Bytes},
        {3 * 1048576.0, UnitKind::Bytes}, {1e12, UnitKind::Bytes},      {512, UnitKind::Bytes},
        {1.1e9, UnitKind::Frequency},    {850e6, UnitKind::Frequency},  {2e9, UnitKind::Frequency},
        {3.35e12, UnitKind::Bandwidth},  {12.5e9, UnitKind::Bandwidth}, {150e9, UnitKind::Bandwidth},
        {8e15, UnitKind::Bandwidth},     {1.2e-6, UnitKind::Time},      {5e-9, UnitKind::Time},
        {2.5e-3, UnitKind::Time},        {1, UnitKind::Time},           {2, UnitKind::Cycles},
        {20, UnitKind::Cycles},          {700, UnitKind::Power},        {23e3, UnitKind::Power},
        {989e12, UnitKind::FlopRate},    {2.25e15, UnitKind::FlopRate}, {32, UnitKind::Bits},
        {0.691, UnitKind::None},
    };
    for (const auto& c : cases) {
        const std::string text = format_quantity(c.value, c.kind);
        double back = -1;
        try {
            back = parse_quantity(text, c.kind);
        } catch (const std::invalid_argument& e) {
            ADD_FAILURE() << c.value << " formatted as \"" << text << "\" does not parse: " << e.what();
            continue;
        }
        EXPECT_NEAR(back, c.value, 1e-9 * c.value) << "\"" << text << "\"";
    }
}

TEST(Units, KindNamesAndSymbols) {
    EXPECT_STREQ(unit_kind_name(UnitKind::Bytes), "bytes");
    EXPECT_STREQ(unit_kind_name(UnitKind::Frequency), "frequency");
    EXPECT_STREQ(unit_kind_symbol(UnitKind::Bandwidth), "B/s");
    EXPECT_STREQ(unit_kind_symbol(UnitKind::Cycles), "cycles");
}

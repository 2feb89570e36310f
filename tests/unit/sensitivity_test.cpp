// Unit tests of the sensitivity arithmetic: elasticity (central and one-sided differences, degenerate
// cases), rounding of integer parameters, and the ranking order.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "sim/run/sensitivity.hpp"

namespace wafersim::run {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

TEST(Elasticity, CentralDifferenceOfAPowerLaw) {
    // m = p^k has elasticity k; the central difference of ±10% is close to it (exact for k = 1).
    for (double k : {1.0, -1.0, 0.5, 2.0}) {
        const double p0 = 3.0, lo = p0 * 0.9, hi = p0 * 1.1;
        const Elasticity e = elasticity(lo, p0, hi, std::pow(lo, k), std::pow(p0, k), std::pow(hi, k));
        EXPECT_EQ(e.method, "central");
        EXPECT_NEAR(e.value, k, std::fabs(k) * 0.02 + 1e-12) << "k = " << k;
    }
    const Elasticity lin = elasticity(9, 10, 11, 18, 20, 22);
    EXPECT_DOUBLE_EQ(lin.value, 1.0);
    const Elasticity flat = elasticity(9, 10, 11, 5, 5, 5);
    EXPECT_EQ(flat.value, 0.0);
}

TEST(Elasticity, TheDefinitionWithNumbers) {
    // m: 100 -> 90 at -10 %, 100 -> 105 at +10 %: (15 / 100) / (20 / 100) = 0.75.
    const Elasticity e = elasticity(0.9, 1.0, 1.1, 90, 100, 105);
    EXPECT_EQ(e.method, "central");
    EXPECT_NEAR(e.value, 0.75, 1e-12);
}

TEST(Elasticity, OneSidedWhenAPointFailed) {
    const Elasticity hi = elasticity(0.9, 1.0, 1.1, kNaN, 100, 105);
    EXPECT_EQ(hi.method, "high only");
    EXPECT_NEAR(hi.value, 0.5, 1e-12);
    const Elasticity lo = elasticity(0.9, 1.0, 1.1, 80, 100, kNaN);
    EXPECT_EQ(lo.method, "low only");
    EXPECT_NEAR(lo.value, 2.0, 1e-12);
}

TEST(Elasticity, NoneWhenNothingToDifferentiate) {
    EXPECT_EQ(elasticity(0.9, 1.0, 1.1, kNaN, 100, kNaN).method, "none");
    EXPECT_TRUE(std::isnan(elasticity(0.9, 1.0, 1.1, kNaN, 100, kNaN).value));
    EXPECT_EQ(elasticity(0, 0, 0, 1, 1, 1).method, "none");       // p0 = 0
    EXPECT_EQ(elasticity(0.9, 1.0, 1.1, 1, 0, 1).method, "none");  // m0 = 0
    EXPECT_EQ(elasticity(2, 2, 2, 1, 1, 1).method, "none");        // rounding left p unchanged
    // A side whose rounded value equals the base does not count.
    const Elasticity e = elasticity(2, 2, 3, 10, 10, 12);
    EXPECT_EQ(e.method, "high only");
    EXPECT_NEAR(e.value, (2.0 / 10) / (1.0 / 2), 1e-12);
}

TEST(Perturb, RealValuesScaleAndIntegersRound) {
    EXPECT_DOUBLE_EQ(perturb(1.1e9, 0.1, false), 1.1e9 * 1.1);
    EXPECT_DOUBLE_EQ(perturb(48.0, -0.1, false), 48.0 * 0.9);
    EXPECT_EQ(perturb(755, -0.1, true), 680);   // 679.5 rounds away from zero
    EXPECT_EQ(perturb(755, 0.1, true), 831);    // 830.5
    EXPECT_EQ(perturb(2, 0.1, true), 2);        // 2.2
    EXPECT_EQ(perturb(2, 0.3, true), 3);        // 2.6
}

SensitivityRow row(const std::string& key, double e_decode, double e_prefill, const std::string& status = "ok") {
    SensitivityRow r;
    r.key = key;
    r.status = status;
    r.decode.e = {e_decode, std::isfinite(e_decode) ? "central" : "none"};
    r.prefill.e = {e_prefill, std::isfinite(e_prefill) ? "central" : "none"};
    return r;
}

TEST(RankRows, ByAbsoluteElasticityThenFailedThenSkipped) {
    std::vector<SensitivityRow> rows = {row("a", 0.1, 2), row("skip", kNaN, kNaN, "skipped"), row("b", -0.9, 1),
                                        row("fail", kNaN, kNaN, "failed"), row("c", 0.5, 0), row("d", 0.0, 3),
                                        row("c0", -0.5, 0)};
    rank_rows(rows, false);
    std::vector<std::string> order;
    for (const auto& r : rows) order.push_back(r.key);
    EXPECT_EQ(order, (std::vector<std::string>{"b", "c", "c0", "a", "d", "fail", "skip"}));
    for (std::size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(rows[i].rank, static_cast<int>(i) + 1);

    rank_rows(rows, true);
    order.clear();
    for (const auto& r : rows) order.push_back(r.key);
    EXPECT_EQ(order, (std::vector<std::string>{"d", "a", "b", "c", "c0", "fail", "skip"}));
}

}  // namespace
}  // namespace wafersim::run

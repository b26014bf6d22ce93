"""Reference values for the golden tests in src/ranking/stats.rs (run once; numbers committed).

python3 -m venv /tmp/venv && /tmp/venv/bin/pip install scipy numpy statsmodels
/tmp/venv/bin/python tests/ranking_golden.py
"""
import numpy as np
import scipy
import statsmodels
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import TTestPower

print("scipy", scipy.__version__, "statsmodels", statsmodels.__version__)

# Ten seeds of test accuracy for two activations (10,000 test images: steps of 1e-4).
a = np.array([0.9745, 0.9761, 0.9738, 0.9752, 0.9749, 0.9770, 0.9741, 0.9755, 0.9760, 0.9747])
b = np.array([0.9731, 0.9755, 0.9740, 0.9736, 0.9744, 0.9751, 0.9733, 0.9748, 0.9742, 0.9739])
# Ties among the differences and two zero differences.
c = np.array([0.9700, 0.9710, 0.9720, 0.9730, 0.9740, 0.9750, 0.9760])
e = np.array([0.9690, 0.9710, 0.9710, 0.9720, 0.9740, 0.9740, 0.9750])

def t_ci(x):
    m, s, n = x.mean(), x.std(ddof=1), len(x)
    h = stats.t.ppf(0.975, n - 1) * s / np.sqrt(n)
    return m, s, m - h, m + h

def perm(x, y):
    r = stats.permutation_test((x, y), lambda u, v: np.mean(u - v), permutation_type="samples",
                               n_resamples=np.inf, alternative="two-sided")
    return r.pvalue

for name, x in [("a", a), ("b", b), ("a[:3]", a[:3])]:
    print("mean_ci", name, "%.17g %.17g %.17g %.17g" % t_ci(x))
for name, x, y in [("a-b", a, b), ("c-e", c, e), ("a-b[:4]", a[:4], b[:4])]:
    r = stats.ttest_rel(x, y)
    m, s, lo, hi = t_ci(x - y)
    print("ttest_rel", name, "t=%.17g p=%.17g mean=%.17g sd=%.17g ci=(%.17g, %.17g)" % (r.statistic, r.pvalue, m, s, lo, hi))
    print("perm", name, "p=%.17g" % perm(x, y))
p = [0.01, 0.04, 0.03, 0.005, 0.5, 0.04]
print("holm", list(multipletests(p, method="holm")[1]))
for es, n in [(0.5, 10), (1.2, 3), (0.3, 50), (2.0, 2)]:
    print("power", es, n, "%.17g" % TTestPower().power(effect_size=es, nobs=n, alpha=0.05, alternative="two-sided"))
for es in [0.5, 1.0, 0.2, 0.05]:
    n = TTestPower().solve_power(effect_size=es, power=0.8, alpha=0.05, alternative="two-sided")
    print("solve_power", es, "%.6f" % n, int(np.ceil(n)))
# Observed a-b effect: seeds needed.
d = a - b
n = TTestPower().solve_power(effect_size=abs(d.mean()) / d.std(ddof=1), power=0.8, alpha=0.05)
print("solve_power a-b", "%.6f" % n, int(np.ceil(n)))
# 21 pairs: scipy's exact answer, which the Monte Carlo estimate must approach.
rng = np.random.default_rng(7)
x = np.round(0.975 + rng.normal(0, 0.001, 21), 4)
y = np.round(x - 0.0004 + rng.normal(0, 0.001, 21), 4)
print("x21", list(x))
print("y21", list(y))
# print("perm21 p=%.17g" % perm(x, y))  # slow: 2^21 patterns; printed 0.00025177001953125
# Welch: all ten of a against the first six of b.
r = stats.ttest_ind(a, b[:6], equal_var=False)
ci = r.confidence_interval(0.95)
print("welch t=%.17g df=%.17g p=%.17g ci=(%.17g, %.17g)" % (r.statistic, r.df, r.pvalue, ci.low, ci.high))

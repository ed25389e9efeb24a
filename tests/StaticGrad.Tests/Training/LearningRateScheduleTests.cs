using System;
using StaticGrad.Training;
using Xunit;

namespace StaticGrad.Tests.Training;

/// <summary>
/// The learning-rate schedules against PyTorch 1.13's schedulers. Sequences marked "PyTorch 1.13" were recorded from
/// /usr/bin/python3 (torch 1.13.0a0) with an SGD optimizer on one dummy parameter, reading
/// <c>opt.param_groups[0]['lr']</c> before each <c>opt.step(); scheduler.step()</c>, and printed with repr; the others are
/// the documented formulas evaluated in Python's math module.
/// </summary>
public class LearningRateScheduleTests
{
    private const double Tolerance = 1e-12;

    [Fact]
    public void StepDecay_MatchesPyTorchStepLR()
    {
        // PyTorch 1.13: StepLR(SGD(lr=0.1), step_size=3, gamma=0.5), 10 steps.
        double[] expected = { 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125 };
        AssertSequence(expected, new StepDecay(3, 0.5), 0.1);
    }

    [Fact]
    public void StepDecay_DefaultGammaIsATenth_AndKeepsDecayingAfterAnyNumberOfSteps()
    {
        var schedule = new StepDecay(100);
        Assert.Equal(0.1, schedule.Gamma);
        AssertClose(2.0, schedule.LearningRate(2.0, 99), "step 99");
        AssertClose(0.2, schedule.LearningRate(2.0, 100), "step 100");
        AssertClose(0.02, schedule.LearningRate(2.0, 250), "step 250"); // 2·0.1^⌊250/100⌋ = 2·0.1²
        AssertClose(2e-10, schedule.LearningRate(2.0, 1_000), "step 1000"); // 2·0.1¹⁰
    }

    [Fact]
    public void ExponentialDecay_MatchesPyTorchExponentialLR()
    {
        // PyTorch 1.13: ExponentialLR(SGD(lr=0.1), gamma=0.9), 10 steps.
        double[] expected =
        {
            0.1, 0.09000000000000001, 0.08100000000000002, 0.07290000000000002, 0.06561000000000002, 0.05904900000000002,
            0.05314410000000002, 0.04782969000000002, 0.043046721000000024, 0.03874204890000002,
        };
        AssertSequence(expected, new ExponentialDecay(0.9), 0.1);
    }

    [Fact]
    public void ExponentialDecay_FarSteps_AndGrowth()
    {
        AssertClose(1.7478712517226948e-47, new ExponentialDecay(0.9).LearningRate(0.1, 1_000), "0.1·0.9¹⁰⁰⁰ (Python)");
        AssertClose(10.125, new ExponentialDecay(1.5).LearningRate(2.0, 4), "2·1.5⁴ (a range test's growth)");
    }

    [Fact]
    public void CosineAnnealing_WithoutWarmup_MatchesPyTorchCosineAnnealingLR_ThenStaysAtTheMinimum()
    {
        // PyTorch 1.13: CosineAnnealingLR(SGD(lr=0.1), T_max=10, eta_min=0.001), 11 steps (step 10 = T_max).
        double[] expected =
        {
            0.1, 0.09757729755661011, 0.0905463412215599, 0.07959536998847742, 0.0657963412215599, 0.0505,
            0.03520365877844011, 0.02140463001152259, 0.010453658778440109, 0.0034227024433899004, 0.001,
        };
        var schedule = new CosineAnnealing(10, 0.001);
        AssertSequence(expected, schedule, 0.1);

        // PyTorch would rise again after T_max; the schedule holds the minimum.
        foreach (long step in new[] { 11L, 15L, 20L, 1_000_000_000_000L })
        {
            Assert.Equal(0.001, schedule.LearningRate(0.1, step));
        }
    }

    [Fact]
    public void CosineAnnealing_WithWarmup_MatchesHuggingFacesCosineScheduleWithWarmup()
    {
        // PyTorch 1.13: LambdaLR(SGD(lr=0.1), lr_lambda) with lr_lambda written out from Hugging Face's
        // get_cosine_schedule_with_warmup(num_warmup_steps=4, num_training_steps=12) (num_cycles=0.5), 13 steps:
        //   step < w: step/max(1, w); else max(0, 0.5·(1 + cos(π·2·0.5·(step − w)/max(1, T − w)))).
        double[] expected =
        {
            0.0, 0.025, 0.05, 0.07500000000000001, 0.1, 0.09619397662556434, 0.08535533905932738, 0.0691341716182545,
            0.05, 0.030865828381745515, 0.014644660940672627, 0.0038060233744356634, 0.0,
        };
        AssertSequence(expected, new CosineAnnealing(12, warmupSteps: 4), 0.1);
    }

    [Fact]
    public void CosineAnnealing_WarmupBoundary_WithAMinimum()
    {
        // Python: [b*(s/4) if s < 4 else mn + (b-mn)*(1+math.cos(math.pi*(s-4)/8))/2 for s in range(12)], b = 0.1, mn = 0.001.
        double[] expected =
        {
            0.0, 0.025, 0.05, 0.07500000000000001, 0.1, 0.0962320368593087, 0.0855017856687341, 0.06944282990207196,
            0.0505, 0.03155717009792806, 0.0154982143312659, 0.004767963140691307,
        };
        var schedule = new CosineAnnealing(12, 0.001, 4);
        AssertSequence(expected, schedule, 0.1);

        // The last warm-up step is just below the base rate, the first cosine step is the base rate itself; the end is the minimum.
        AssertClose(0.075, schedule.LearningRate(0.1, 3), "last warm-up step");
        Assert.Equal(0.1, schedule.LearningRate(0.1, 4));
        Assert.Equal(0.001, schedule.LearningRate(0.1, 12));
        Assert.Equal(0.001, schedule.LearningRate(0.1, 13));
    }

    [Fact]
    public void CosineAnnealing_OneStepWarmup_StartsAtZero()
    {
        var schedule = new CosineAnnealing(3, warmupSteps: 1);
        Assert.Equal(0.0, schedule.LearningRate(0.5, 0));
        Assert.Equal(0.5, schedule.LearningRate(0.5, 1));
        AssertClose(0.25, schedule.LearningRate(0.5, 2), "halfway down"); // 0.5·(1 + cos(π/2))/2
        Assert.Equal(0.0, schedule.LearningRate(0.5, 3));
    }

    [Fact]
    public void OneCycle_TenSteps_MatchesPyTorchOneCycleLR()
    {
        // PyTorch 1.13: OneCycleLR(SGD(lr=0.1), max_lr=0.1, total_steps=10, anneal_strategy='cos', three_phase=False, cycle_momentum=False), 10 steps.
        double[] expected =
        {
            0.0040000000000000036, 0.052000000000000005, 0.1, 0.09504846320134738, 0.0811745653949763, 0.06112620219362893,
            0.03887419780637107, 0.0188258346050237, 0.004951936798652629, 4e-07,
        };
        AssertSequence(expected, new OneCycle(0.1, 10), 123.0);
    }

    [Fact]
    public void OneCycle_HundredSteps_MatchesPyTorchOneCycleLR()
    {
        // PyTorch 1.13: OneCycleLR(SGD(lr=0.1), max_lr=0.01, total_steps=100, anneal_strategy='cos', three_phase=False, cycle_momentum=False),
        // 100 steps, printed at steps [0, 1, 15, 28, 29, 30, 31, 50, 98, 99] (phase 1 ends at step 29).
        long[] steps = { 0, 1, 15, 28, 29, 30, 31, 50, 98, 99 };
        double[] expected =
        {
            0.0003999999999999993, 0.00042813780565907275, 0.005459866761210004, 0.009971862194340927, 0.01,
            0.009994965352845242, 0.009979871550490316, 0.00793893450575732, 5.07464715475788e-06, 4e-08,
        };
        var schedule = new OneCycle(0.01, 100);
        for (int i = 0; i < steps.Length; i++)
        {
            AssertClose(expected[i], schedule.LearningRate(0.1, steps[i]), $"step {steps[i]}");
        }
    }

    [Fact]
    public void OneCycle_FractionalPhaseEnd_AndEveryArgument_MatchPyTorchOneCycleLR()
    {
        // PyTorch 1.13: OneCycleLR(SGD(lr=0.1), max_lr=0.5, total_steps=7, pct_start=0.25, div_factor=10, final_div_factor=100,
        // anneal_strategy='cos', three_phase=False, cycle_momentum=False), 7 steps (phase 1 ends at step 0.75).
        double[] expected =
        {
            0.04999999999999999, 0.49721049884972585, 0.4333297049894991, 0.3058246032555895, 0.15900607916449283,
            0.04389686611458033, 0.0005,
        };
        AssertSequence(expected, new OneCycle(0.5, 7, 0.25, 10, 100), 0.1);
    }

    [Fact]
    public void OneCycle_EdgeCases_MatchPyTorchOneCycleLR()
    {
        // PyTorch 1.13, anneal_strategy='cos', three_phase=False, cycle_momentum=False, max_lr=0.1:
        // total_steps=1 → [4e-07]; total_steps=5, pct_start=1.0 → 5 steps; total_steps=10, pct_start=0.0 → 10 steps.
        AssertSequence(new[] { 4e-07 }, new OneCycle(0.1, 1), 0.1);
        AssertSequence(
            new[] { 0.0040000000000000036, 0.018058874503045733, 0.052000000000000005, 0.08594112549695429, 0.1 },
            new OneCycle(0.1, 5, percentStart: 1),
            0.1);
        AssertSequence(
            new[]
            {
                0.09755283560345443, 0.0904508879153485, 0.0793893450575732, 0.0654509879153485, 0.0500002,
                0.03454941208465151, 0.02061105494242681, 0.009549512084651508, 0.0024475643965455826, 4e-07,
            },
            new OneCycle(0.1, 10, percentStart: 0),
            0.1);
    }

    [Fact]
    public void OneCycle_ZeroLengthPhase_GivesThePhasesEndRate()
    {
        // pct_start=0.1 with total_steps=10 ends phase 1 at step 0, where PyTorch 1.13 raises ZeroDivisionError.
        // Step 0 gets phase 1's end rate (max); later steps are phase 2 from step 0 to 9, by PyTorch's formula in Python:
        // m + (0.1 - m)/2.0*(math.cos(math.pi*(k/9))+1) with m = 0.1/25/1e4.
        var schedule = new OneCycle(0.1, 10, percentStart: 0.1);
        Assert.Equal(0.1, schedule.LearningRate(0.1, 0));
        AssertClose(0.09698464310077128, schedule.LearningRate(0.1, 1), "step 1");
        AssertClose(0.04131782584628902, schedule.LearningRate(0.1, 5), "step 5");
    }

    [Fact]
    public void OneCycle_AfterTheEnd_HoldsTheFinalRate_AndIgnoresTheBaseRate()
    {
        var schedule = new OneCycle(0.1, 10);
        foreach (long step in new[] { 10L, 11L, 1_000L, long.MaxValue })
        {
            Assert.Equal(4e-07, schedule.LearningRate(0.1, step));
        }

        // With percentStart = 1 the last step is the peak, and that is what the schedule keeps.
        Assert.Equal(0.1, new OneCycle(0.1, 5, percentStart: 1).LearningRate(0.1, 7));
        Assert.Equal(schedule.LearningRate(0.1, 3), schedule.LearningRate(5.0, 3));
    }

    [Fact]
    public void Schedules_KeepTheirArguments()
    {
        var cosine = new CosineAnnealing(100, 0.01, 5);
        Assert.Equal((100L, 0.01, 5L), (cosine.TotalSteps, cosine.MinLearningRate, cosine.WarmupSteps));
        var oneCycle = new OneCycle(0.2, 50, 0.4, 20, 1000);
        Assert.Equal((0.2, 50L, 0.4, 20.0, 1000.0), (oneCycle.MaxLearningRate, oneCycle.TotalSteps, oneCycle.PercentStart, oneCycle.DivFactor, oneCycle.FinalDivFactor));
        Assert.Equal((7, 0.5), (new StepDecay(7, 0.5).StepSize, new StepDecay(7, 0.5).Gamma));
        Assert.Equal(0.95, new ExponentialDecay(0.95).Gamma);
    }

    [Fact]
    public void NegativeSteps_AreRejected_ByEverySchedule()
    {
        LearningRateSchedule[] schedules = { new StepDecay(3), new ExponentialDecay(0.9), new CosineAnnealing(10), new OneCycle(0.1, 10) };
        foreach (var schedule in schedules)
        {
            var exception = Assert.Throws<ArgumentOutOfRangeException>(() => schedule.LearningRate(0.1, -1));
            AssertOutOfRange(exception, "step", -1L, "step is the 0-based index of an update and cannot be negative.");
        }
    }

    [Fact]
    public void StepDecay_ValidatesItsArguments()
    {
        AssertOutOfRange(Assert.Throws<ArgumentOutOfRangeException>(() => new StepDecay(0)), "stepSize", 0, "stepSize must be at least 1.");
        AssertOutOfRange(Assert.Throws<ArgumentOutOfRangeException>(() => new StepDecay(-3)), "stepSize", -3, "stepSize must be at least 1.");
        foreach (double gamma in new[] { 0.0, -0.5, double.NaN, double.PositiveInfinity })
        {
            AssertOutOfRange(Assert.Throws<ArgumentOutOfRangeException>(() => new StepDecay(1, gamma)), "gamma", gamma, "gamma must be positive and finite.");
        }
    }

    [Fact]
    public void ExponentialDecay_ValidatesItsArgument()
    {
        foreach (double gamma in new[] { 0.0, -0.5, double.NaN, double.PositiveInfinity })
        {
            AssertOutOfRange(Assert.Throws<ArgumentOutOfRangeException>(() => new ExponentialDecay(gamma)), "gamma", gamma, "gamma must be positive and finite.");
        }
    }

    [Fact]
    public void CosineAnnealing_ValidatesItsArguments()
    {
        AssertOutOfRange(Assert.Throws<ArgumentOutOfRangeException>(() => new CosineAnnealing(10, 0, -1)), "warmupSteps", -1L, "warmupSteps must be at least 0.");
        AssertOutOfRange(Assert.Throws<ArgumentOutOfRangeException>(() => new CosineAnnealing(0)), "totalSteps", 0L, "totalSteps must be greater than warmupSteps (0).");
        AssertOutOfRange(Assert.Throws<ArgumentOutOfRangeException>(() => new CosineAnnealing(5, 0, 5)), "totalSteps", 5L, "totalSteps must be greater than warmupSteps (5).");
        foreach (double min in new[] { -1e-9, double.NaN, double.PositiveInfinity })
        {
            AssertOutOfRange(Assert.Throws<ArgumentOutOfRangeException>(() => new CosineAnnealing(10, min)), "minLearningRate", min, "minLearningRate must be at least 0 and finite.");
        }
    }

    [Fact]
    public void OneCycle_ValidatesItsArguments()
    {
        foreach (double bad in new[] { 0.0, -0.1, double.NaN, double.PositiveInfinity })
        {
            AssertOutOfRange(Assert.Throws<ArgumentOutOfRangeException>(() => new OneCycle(bad, 10)), "maxLearningRate", bad, "maxLearningRate must be positive and finite.");
            AssertOutOfRange(Assert.Throws<ArgumentOutOfRangeException>(() => new OneCycle(0.1, 10, divFactor: bad)), "divFactor", bad, "divFactor must be positive and finite.");
            AssertOutOfRange(Assert.Throws<ArgumentOutOfRangeException>(() => new OneCycle(0.1, 10, finalDivFactor: bad)), "finalDivFactor", bad, "finalDivFactor must be positive and finite.");
        }

        AssertOutOfRange(Assert.Throws<ArgumentOutOfRangeException>(() => new OneCycle(0.1, 0)), "totalSteps", 0L, "totalSteps must be at least 1.");
        foreach (double percent in new[] { -0.01, 1.01, double.NaN })
        {
            AssertOutOfRange(Assert.Throws<ArgumentOutOfRangeException>(() => new OneCycle(0.1, 10, percent)), "percentStart", percent, "percentStart must be between 0 and 1.");
        }
    }

    private static void AssertSequence(double[] expected, LearningRateSchedule schedule, double baseLearningRate)
    {
        for (int step = 0; step < expected.Length; step++)
        {
            AssertClose(expected[step], schedule.LearningRate(baseLearningRate, step), $"{schedule.GetType().Name}, step {step}");
        }
    }

    private static void AssertClose(double expected, double actual, string what)
    {
        double error = expected == 0 ? Math.Abs(actual) : Math.Abs(actual - expected) / Math.Abs(expected);
        Assert.True(error <= Tolerance, $"{what}: expected {expected:R}, got {actual:R} (relative error {error:E2})");
    }

    private static void AssertOutOfRange(ArgumentOutOfRangeException exception, string parameter, object value, string rule)
    {
        Assert.Equal(parameter, exception.ParamName);
        Assert.Equal(value, exception.ActualValue);
        Assert.Equal($"{rule} (Parameter '{parameter}'){Environment.NewLine}Actual value was {value}.", exception.Message);
    }
}

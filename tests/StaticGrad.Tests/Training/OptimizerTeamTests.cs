using System;
using System.Linq;
using StaticGrad.Kernels;
using StaticGrad.Tests.Networks;
using StaticGrad.Training;
using StaticGrad.Tests.Infrastructure;
using Xunit;

namespace StaticGrad.Tests.Training;

/// <summary>
/// <see cref="Optimizer.Step{T}(object, Span{T}, Span{T}, WorkerTeam, double)"/> splits the update of a large network across
/// a team's threads (each thread a share of every tensor). Every element is computed by the same operations on any thread,
/// so the parameters, the optimizer's state and the gradients must come out bitwise as on one thread, for every optimizer
/// and option, and a step must allocate nothing.
/// </summary>
public class OptimizerTeamTests
{
    private static readonly WorkerTeam Team = new(3); // three parts: the shares of 79,626 parameters do not fall on tensor ends

    public static TheoryData<string> Optimizers => new() { "sgd", "sgd+momentum+decay", "adam", "adam+decay+clip", "adamw" };

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void OnATeam_EveryStepIsBitwiseTheOneThreadStep(string kind)
    {
        // 300·256 + 256 + 256·10 + 10 = 79,626 parameters: above the 32,768 from which the update is split.
        int count = ThreadedMlp.Description.ParameterCount;
        Assert.True(count >= 1 << 15);
        var random = new Random(17);
        float[] start = Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        float[][] gradients = Enumerable.Range(0, 4).Select(_ => Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() - 0.5) * 1e-2)).ToArray()).ToArray();

        object ownerOne = new(), ownerTeam = new();
        Optimizer one = Create(kind), onTeam = Create(kind);
        one.Attach<float>(ownerOne, ThreadedMlp.Description);
        onTeam.Attach<float>(ownerTeam, ThreadedMlp.Description);
        float[] p1 = (float[])start.Clone(), p2 = (float[])start.Clone();
        foreach (float[] g in gradients)
        {
            float[] g1 = (float[])g.Clone(), g2 = (float[])g.Clone();
            Assert.True(one.Step<float>(ownerOne, p1, g1, team: null));
            Assert.True(onTeam.Step<float>(ownerTeam, p2, g2, Team));
            Assert.Equal(g1, g2); // clipping scales them in place, the same way
        }

        int changed = 0;
        for (int i = 0; i < count; i++)
        {
            Assert.True(BitConverter.SingleToInt32Bits(p1[i]) == BitConverter.SingleToInt32Bits(p2[i]), $"{kind}: parameter {i} is {p1[i]} on one thread and {p2[i]} on a team of 3");
            changed += p1[i] != start[i] ? 1 : 0;
        }

        Assert.True(changed > count * 9 / 10, $"{kind}: only {changed} of {count} parameters moved"); // the check compared updated values

        // Steps on the team allocate nothing once the workers have started (above) and the code is warm.
        float[] next = gradients[0];
        for (int step = 0; step < 5; step++)
        {
            onTeam.Step<float>(ownerTeam, p2, next, Team);
        }

        Allocations.AssertSteadyStateAllocatesNothing(() => onTeam.Step<float>(ownerTeam, p2, next, Team), stepsPerWindow: 10);
    }

    private static Optimizer Create(string kind) => kind switch
    {
        "sgd" => new Sgd(0.05),
        "sgd+momentum+decay" => new Sgd(0.05, momentum: 0.9, weightDecay: 1e-3),
        "adam" => new Adam(1e-3),
        "adam+decay+clip" => new Adam(1e-3, weightDecay: 1e-2) { MaxGradientNorm = 0.05 },
        "adamw" => new AdamW(1e-3),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown optimizer"),
    };
}

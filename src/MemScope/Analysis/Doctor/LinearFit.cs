namespace MemScope.Analysis.Doctor;

/// <summary>Least-squares line through (t, y) points: slope per second and R² (1 = perfectly steady).</summary>
public readonly record struct LinearFit(double Slope, double Intercept, double RSquared, int Points)
{
    public static LinearFit Of(IReadOnlyList<(double T, double Y)> points)
    {
        int n = points.Count;
        if (n < 2) return new LinearFit(0, n == 1 ? points[0].Y : 0, 0, n);
        double mt = points.Average(p => p.T), my = points.Average(p => p.Y);
        double stt = 0, sty = 0, syy = 0;
        foreach (var (t, y) in points)
        {
            stt += (t - mt) * (t - mt);
            sty += (t - mt) * (y - my);
            syy += (y - my) * (y - my);
        }
        if (stt == 0) return new LinearFit(0, my, 0, n);
        double slope = sty / stt;
        double r2 = syy == 0 ? 0 : sty * sty / (stt * syy);
        return new LinearFit(slope, my - slope * mt, r2, n);
    }
}

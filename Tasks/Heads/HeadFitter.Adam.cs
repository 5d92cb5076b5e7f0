using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;

namespace VqaApi.Tasks.Heads;

public static partial class HeadFitter
{
    /// <summary>Adam on the parameters of a <see cref="Network"/>, with the L2 term added to the weights' gradients.</summary>
    private sealed class Adam
    {
        private readonly float[][] _parameters;
        private readonly double[][] _m, _v;
        private readonly double _learningRate, _l2;
        private int _t;

        public Adam(Network net, double learningRate, double l2)
        {
            _parameters = net.Parameters;
            Gradients = _parameters.Select(p => new float[p.Length]).ToArray();
            _m = _parameters.Select(p => new double[p.Length]).ToArray();
            _v = _parameters.Select(p => new double[p.Length]).ToArray();
            (_learningRate, _l2) = (learningRate, l2);
        }

        public float[][] Gradients { get; }

        public void Step()
        {
            _t++;
            double c1 = 1 - Math.Pow(Beta1, _t), c2 = 1 - Math.Pow(Beta2, _t);
            for (int k = 0; k < _parameters.Length; k++)
            {
                var p = _parameters[k];
                var g = Gradients[k];
                var m = _m[k];
                var v = _v[k];
                double l2 = Network.IsWeight(k) ? _l2 : 0;
                for (int i = 0; i < p.Length; i++)
                {
                    double gi = g[i] + l2 * p[i];
                    m[i] = Beta1 * m[i] + (1 - Beta1) * gi;
                    v[i] = Beta2 * v[i] + (1 - Beta2) * gi * gi;
                    p[i] = (float)(p[i] - _learningRate * (m[i] / c1) / (Math.Sqrt(v[i] / c2) + Epsilon));
                }
            }
        }
    }
}

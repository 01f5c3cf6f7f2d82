/**
 * The cuda engine's own kernels (CUDA C, compiled at engine start by NVRTC for the GPU's exact
 * architecture): the element-wise parts of the objective (preprocessing, the image's border padding,
 * bias, ReLU and pooling and their gradients, content and Gram differences, masks, TV) and the optimizer's vector maths.
 *
 * Activations are NCHW (N = 1); the optimizer's vectors are the image's HWC layout.
 * Determinism: no atomics; every reduction is two fixed-shape passes (REDUCE_BLOCKS partial sums
 * in double, then one block adding them in a fixed order), so a sum is the same bits every run.
 * Vector ops take their scalars as double and compute in double before rounding, as the host ops
 * do in JavaScript, so that element-wise results equal hostVectorOps' bit for bit.
 */

/** Blocks of the first reduction pass (the partial-sum buffer holds this many doubles). */
export const REDUCE_BLOCKS = 512;
/** Threads per block of every kernel. */
export const THREADS = 256;

/**
 * Every kernel's C parameters, in order, by name and C type: the launcher encodes its arguments
 * by this table (device.ts), the emulator decodes them by it, and a test checks it against the
 * signatures in {@link KERNEL_SOURCE}.
 */
export const KERNEL_SIGNATURES = {
  preprocess: {
    x: "const float*",
    out: "float*",
    hw: "int",
    mean_b: "float",
    mean_g: "float",
    mean_r: "float",
  },
  image_grad: {
    g: "const float*",
    x: "const float*",
    out: "float*",
    h: "int",
    w: "int",
    tv_weight: "float",
  },
  pad_forward: { in: "const float*", out: "float*", c: "int", H: "int", W: "int", reflect: "int" },
  pad_backward: {
    gout: "const float*",
    gin: "float*",
    c: "int",
    H: "int",
    W: "int",
    reflect: "int",
  },
  add_bias: { y: "float*", bias: "const float*", c: "int", hw: "int" },
  relu: { in: "const float*", out: "float*", n: "long" },
  relu_grad: { g: "float*", y: "const float*", n: "long" },
  pool_forward: { in: "const float*", out: "float*", c: "int", H: "int", W: "int", is_max: "int" },
  pool_backward: {
    gout: "const float*",
    in: "const float*",
    gin: "float*",
    c: "int",
    H: "int",
    W: "int",
    is_max: "int",
  },
  partial_dot: { a: "const float*", b: "const float*", n: "long", partial: "double*" },
  partial_sqdiff: { a: "const float*", b: "const float*", n: "long", partial: "double*" },
  partial_tv: { x: "const float*", h: "int", w: "int", partial: "double*" },
  reduce_final: {
    partial: "const double*",
    count: "int",
    out: "double*",
    slot: "int",
    scale: "double",
  },
  content_grad: { g: "float*", f: "const float*", p: "const float*", n: "long", coef: "float" },
  gram_diff: {
    gram: "const float*",
    target: "const float*",
    d: "float*",
    c: "int",
    coef: "float",
  },
  mask_rows: { f: "const float*", m: "const float*", out: "float*", c: "int", hw: "int" },
  mask_rows_acc: { g: "float*", t: "const float*", m: "const float*", c: "int", hw: "int" },
  v_axpy: { n: "long", a: "double", x: "const float*", y: "const float*", out: "float*" },
  v_scale: { n: "long", a: "double", x: "const float*", out: "float*" },
  v_sub: { n: "long", x: "const float*", y: "const float*", out: "float*" },
  v_mul: { n: "long", x: "const float*", y: "const float*", out: "float*" },
  v_sqrt: { n: "long", x: "const float*", out: "float*" },
  v_div: { n: "long", x: "const float*", y: "const float*", eps: "double", out: "float*" },
  v_clamp: { n: "long", x: "const float*", lo: "double", hi: "double", out: "float*" },
  lbfgs_step: {
    n: "long",
    pin: "const double*",
    count: "int",
    rho: "double",
    slots: "double*",
    slot: "int",
    sa: "double",
    ib: "int",
    sb: "double",
    x: "const float*",
    q: "float*",
    next: "const float*",
    pout: "double*",
  },
} as const;

/** A kernel of {@link KERNEL_SOURCE}. */
export type KernelName = keyof typeof KERNEL_SIGNATURES;

/** Kernel names, in {@link KERNEL_SIGNATURES}' order. */
export const KERNEL_NAMES = Object.keys(KERNEL_SIGNATURES) as KernelName[];

/** A C parameter type of the kernels. */
export type ParamType = "int" | "long" | "float" | "double" | `${string}*`;

/** A device address argument: an array, a raw pointer, or null (0). */
export type DevicePointer = { readonly ptr: Deno.PointerValue } | Deno.PointerValue;

/** The arguments of kernel `K` by parameter name: pointers for `T*`, numbers otherwise. */
export type KernelArgs<K extends KernelName> = {
  readonly [P in keyof typeof KERNEL_SIGNATURES[K]]: typeof KERNEL_SIGNATURES[K][P] extends
    `${string}*` ? DevicePointer
    : number;
};

/** The CUDA C source of every kernel. */
export const KERNEL_SOURCE = `
#define THREADS ${THREADS}
#define LOOP(i, n) for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); \\
  i += (long)blockDim.x * gridDim.x)

/* HWC RGB 0-255 -> NCHW BGR minus the caffe mean. */
extern "C" __global__ void preprocess(const float* x, float* out, int hw,
    float mean_b, float mean_g, float mean_r) {
  LOOP(p, hw) {
    out[p] = x[3 * p + 2] - mean_b;
    out[hw + p] = x[3 * p + 1] - mean_g;
    out[2 * hw + p] = x[3 * p] - mean_r;
  }
}

/* dL/dx (HWC RGB) from the network's NCHW BGR input gradient, plus tv_weight * dTV/dx. */
extern "C" __global__ void image_grad(const float* g, const float* x, float* out, int h, int w,
    float tv_weight) {
  long hw = (long)h * w;
  LOOP(k, 3 * hw) {
    long p = k / 3; int c = (int)(k - 3 * p);
    int i = (int)(p / w), j = (int)(p - (long)i * w);
    float v = x[k], tv = 0.0f;
    if (i > 0) tv += 2.0f * (v - x[k - 3 * (long)w]);
    if (i < h - 1) tv -= 2.0f * (x[k + 3 * (long)w] - v);
    if (j > 0) tv += 2.0f * (v - x[k - 3]);
    if (j < w - 1) tv -= 2.0f * (x[k + 3] - v);
    float net = (g == 0) ? 0.0f : g[(2 - c) * hw + p];
    out[k] = net + tv_weight * tv;
  }
}

/* Row (or column) of [0, n) that padded position p of [0, n + 2) copies: reflect 1 / n - 2 at the
 * border, replicate 0 / n - 1. */
__device__ int pad_source(int p, int n, int reflect) {
  if (p == 0) return reflect ? 1 : 0;
  if (p == n + 1) return reflect ? n - 2 : n - 1;
  return p - 1;
}

/* [c, H, W] -> [c, H + 2, W + 2] with a 1-pixel reflect (reflect = 1) or replicate border. */
extern "C" __global__ void pad_forward(const float* in, float* out, int c, int H, int W,
    int reflect) {
  int Hp = H + 2, Wp = W + 2;
  LOOP(k, (long)c * Hp * Wp) {
    long ch = k / ((long)Hp * Wp); long r = k - ch * Hp * Wp;
    int y = (int)(r / Wp), x = (int)(r - (long)y * Wp);
    out[k] = in[ch * H * W + (long)pad_source(y, H, reflect) * W + pad_source(x, W, reflect)];
  }
}

/* The adjoint of pad_forward: gin[c, i, j] = the sum of gout over the padded positions that copy
 * (i, j), gathered per input element (no atomics), interior first, then the border rows/columns. */
extern "C" __global__ void pad_backward(const float* gout, float* gin, int c, int H, int W,
    int reflect) {
  int Hp = H + 2, Wp = W + 2;
  LOOP(k, (long)c * H * W) {
    long ch = k / ((long)H * W); long r = k - ch * H * W;
    int i = (int)(r / W), j = (int)(r - (long)i * W);
    int rows[3] = {i + 1, -1, -1}, cols[3] = {j + 1, -1, -1};
    if (pad_source(0, H, reflect) == i) rows[1] = 0;
    if (pad_source(H + 1, H, reflect) == i) rows[2] = H + 1;
    if (pad_source(0, W, reflect) == j) cols[1] = 0;
    if (pad_source(W + 1, W, reflect) == j) cols[2] = W + 1;
    const float* g = gout + ch * Hp * Wp;
    float s = 0.0f;
    for (int a = 0; a < 3; a++) {
      if (rows[a] < 0) continue;
      for (int b = 0; b < 3; b++) if (cols[b] >= 0) s += g[(long)rows[a] * Wp + cols[b]];
    }
    gin[k] = s;
  }
}

extern "C" __global__ void add_bias(float* y, const float* bias, int c, int hw) {
  LOOP(k, (long)c * hw) y[k] += bias[k / hw];
}

extern "C" __global__ void relu(const float* in, float* out, long n) {
  LOOP(k, n) out[k] = fmaxf(in[k], 0.0f);
}

/* The gradient passes where the ReLU's output (or input) is positive. */
extern "C" __global__ void relu_grad(float* g, const float* y, long n) {
  LOOP(k, n) if (!(y[k] > 0.0f)) g[k] = 0.0f;
}

/* 2x2 stride-2 "valid" pooling, odd edges dropped: h = H / 2, w = W / 2. */
extern "C" __global__ void pool_forward(const float* in, float* out, int c, int H, int W,
    int is_max) {
  int h = H / 2, w = W / 2;
  LOOP(k, (long)c * h * w) {
    long ch = k / ((long)h * w); long r = k - ch * h * w;
    int i = (int)(r / w), j = (int)(r - (long)i * w);
    const float* base = in + ch * H * W + (long)(2 * i) * W + 2 * j;
    float a = base[0], b = base[1], d = base[W], e = base[W + 1];
    out[k] = is_max ? fmaxf(fmaxf(a, b), fmaxf(d, e)) : 0.25f * (a + b + d + e);
  }
}

/* One thread per input element; max: the window's first maximum (row-major) takes it all. */
extern "C" __global__ void pool_backward(const float* gout, const float* in, float* gin, int c,
    int H, int W, int is_max) {
  int h = H / 2, w = W / 2;
  LOOP(k, (long)c * H * W) {
    long ch = k / ((long)H * W); long r = k - ch * H * W;
    int y = (int)(r / W), x = (int)(r - (long)y * W);
    int i = y / 2, j = x / 2;
    float v = 0.0f;
    if (i < h && j < w) {
      float go = gout[ch * h * w + (long)i * w + j];
      if (is_max) {
        const float* base = in + ch * H * W + (long)(2 * i) * W + 2 * j;
        float m = base[0]; int arg = 0;
        if (base[1] > m) { m = base[1]; arg = 1; }
        if (base[W] > m) { m = base[W]; arg = 2; }
        if (base[W + 1] > m) { m = base[W + 1]; arg = 3; }
        v = (arg == 2 * (y - 2 * i) + (x - 2 * j)) ? go : 0.0f;
      } else {
        v = 0.25f * go;
      }
    }
    gin[k] = v;
  }
}

/*
 * The sum of every thread's acc over the block, always in the same order (a tree), returned to
 * every thread; the closing barrier lets a kernel call it again.
 */
__device__ double block_reduce(double acc) {
  __shared__ double s[THREADS];
  s[threadIdx.x] = acc;
  __syncthreads();
  for (int span = THREADS / 2; span > 0; span >>= 1) {
    if (threadIdx.x < span) s[threadIdx.x] += s[threadIdx.x + span];
    __syncthreads();
  }
  double total = s[0];
  __syncthreads();
  return total;
}

/* First reduction pass: partial[block] = this block's share of the sum, in double. */
__device__ void block_sum(double acc, double* partial) {
  double total = block_reduce(acc);
  if (threadIdx.x == 0) partial[blockIdx.x] = total;
}

extern "C" __global__ void partial_dot(const float* a, const float* b, long n, double* partial) {
  double acc = 0.0;
  LOOP(k, n) acc += (double)a[k] * (double)b[k];
  block_sum(acc, partial);
}

extern "C" __global__ void partial_sqdiff(const float* a, const float* b, long n,
    double* partial) {
  double acc = 0.0;
  LOOP(k, n) { double d = (double)a[k] - (double)b[k]; acc += d * d; }
  block_sum(acc, partial);
}

/* Total variation of an HWC image (3 channels). */
extern "C" __global__ void partial_tv(const float* x, int h, int w, double* partial) {
  double acc = 0.0;
  LOOP(k, 3L * h * w) {
    long p = k / 3; int i = (int)(p / w), j = (int)(p - (long)i * w);
    if (i < h - 1) { double d = (double)x[k + 3L * w] - x[k]; acc += d * d; }
    if (j < w - 1) { double d = (double)x[k + 3] - x[k]; acc += d * d; }
  }
  block_sum(acc, partial);
}

/* Second pass, one block: out[slot] = scale * sum of the partials, always in the same order. */
extern "C" __global__ void reduce_final(const double* partial, int count, double* out, int slot,
    double scale) {
  double acc = 0.0;
  for (int k = threadIdx.x; k < count; k += blockDim.x) acc += partial[k];
  double total = block_reduce(acc);
  if (threadIdx.x == 0) out[slot] = scale * total;
}

/* g += coef * (f - p) */
extern "C" __global__ void content_grad(float* g, const float* f, const float* p, long n,
    float coef) {
  LOOP(k, n) g[k] += coef * (f[k] - p[k]);
}

/* d = coef * (G - (A + A^T) / 2): the Gram term's gradient factor (G is symmetric). */
extern "C" __global__ void gram_diff(const float* gram, const float* target, float* d, int c,
    float coef) {
  LOOP(k, (long)c * c) {
    int i = (int)(k / c), j = (int)(k - (long)i * c);
    d[k] = coef * (gram[k] - 0.5f * (target[k] + target[(long)j * c + i]));
  }
}

/* out[c, p] = f[c, p] * m[p] */
extern "C" __global__ void mask_rows(const float* f, const float* m, float* out, int c, int hw) {
  LOOP(k, (long)c * hw) out[k] = f[k] * m[k % hw];
}

/* g[c, p] += t[c, p] * m[p] */
extern "C" __global__ void mask_rows_acc(float* g, const float* t, const float* m, int c,
    int hw) {
  LOOP(k, (long)c * hw) g[k] += t[k] * m[k % hw];
}

extern "C" __global__ void v_axpy(long n, double a, const float* x, const float* y, float* out) {
  LOOP(k, n) out[k] = (float)(a * (double)x[k] + (double)y[k]);
}
extern "C" __global__ void v_scale(long n, double a, const float* x, float* out) {
  LOOP(k, n) out[k] = (float)(a * (double)x[k]);
}
extern "C" __global__ void v_sub(long n, const float* x, const float* y, float* out) {
  LOOP(k, n) out[k] = (float)((double)x[k] - (double)y[k]);
}
extern "C" __global__ void v_mul(long n, const float* x, const float* y, float* out) {
  LOOP(k, n) out[k] = (float)((double)x[k] * (double)y[k]);
}
extern "C" __global__ void v_sqrt(long n, const float* x, float* out) {
  LOOP(k, n) out[k] = (float)sqrt((double)x[k]);
}
extern "C" __global__ void v_div(long n, const float* x, const float* y, double eps, float* out) {
  LOOP(k, n) out[k] = (float)((double)x[k] / ((double)y[k] + eps));
}
extern "C" __global__ void v_clamp(long n, const float* x, double lo, double hi, float* out) {
  LOOP(k, n) out[k] = (float)fmin(hi, fmax(lo, (double)x[k]));
}
/*
 * One step of the L-BFGS two-loop recursion in one launch (REDUCE_BLOCKS blocks): v = rho * the
 * sum of the previous dot's partials (every block adds them in reduce_final's order); block 0
 * stores v in slots[slot] (slot >= 0); q += (sa * v + sb * slots[ib]) * x (ib < 0: no second
 * term); then, for the next step, partials of next . q into pout (next == 0: none).
 */
extern "C" __global__ void lbfgs_step(long n, const double* pin, int count, double rho,
    double* slots, int slot, double sa, int ib, double sb, const float* x, float* q,
    const float* next, double* pout) {
  double acc = 0.0;
  for (int k = threadIdx.x; k < count; k += blockDim.x) acc += pin[k];
  double v = rho * block_reduce(acc);
  if (slot >= 0 && blockIdx.x == 0 && threadIdx.x == 0) slots[slot] = v;
  double a = sa * v + (ib >= 0 ? sb * slots[ib] : 0.0);
  double dot = 0.0;
  LOOP(k, n) {
    float updated = (float)(a * (double)x[k] + (double)q[k]);
    q[k] = updated;
    if (next != 0) dot += (double)next[k] * (double)updated;
  }
  if (next != 0) block_sum(dot, pout);
}
`;

/**
 * The layout conversions between the project's HWC/HWIO arrays and the cuda engine's NCHW/OIHW
 * (cuDNN's and cuBLAS's column-major views).
 */

/** HWC → CHW for `c` channels. */
export function hwcToChw(hwc: Float32Array, c: number): Float32Array {
  const hw = hwc.length / c;
  const out = new Float32Array(hwc.length);
  for (let p = 0; p < hw; p++) for (let k = 0; k < c; k++) out[k * hw + p] = hwc[p * c + k];
  return out;
}

/** CHW → HWC for `c` channels. */
export function chwToHwc(chw: Float32Array, c: number): Float32Array {
  const hw = chw.length / c;
  const out = new Float32Array(chw.length);
  for (let p = 0; p < hw; p++) for (let k = 0; k < c; k++) out[p * c + k] = chw[k * hw + p];
  return out;
}

/** A 3×3 kernel HWIO (the weights' layout) → OIHW (cuDNN's KCRS). */
export function oihwFromHwio(hwio: Float32Array, cin: number, cout: number): Float32Array {
  const oihw = new Float32Array(hwio.length);
  for (let ky = 0; ky < 3; ky++) {
    for (let kx = 0; kx < 3; kx++) {
      for (let ci = 0; ci < cin; ci++) {
        for (let co = 0; co < cout; co++) {
          oihw[((co * cin + ci) * 3 + ky) * 3 + kx] = hwio[((ky * 3 + kx) * cin + ci) * cout + co];
        }
      }
    }
  }
  return oihw;
}

/* bfloat16 GEMMs with float32 accumulation, for matmul_precision="bfloat16".
 *
 * fastmlp_bf16_gemm computes C = op(A) @ op(B) (row-major float32 in and
 * out, beta = 0) with A's and B's entries rounded to bfloat16 (to nearest,
 * ties to even) and the products summed in float32: AMX tiles where the CPU
 * has AMX-BF16 (and Linux grants the tile data, which is asked once per
 * process), else AVX512-BF16's vdpbf16ps. Chosen at run time
 * (fastmlp_bf16_support); the caller checks support before asking.
 *
 * Both kernels pack their operands first, rounding them on the way:
 *   A (m x k) into rows of kp = k rounded up to 32 bfloat16 (zero padded);
 *   B (k x n) into the "VNNI" layout both instructions take: per block of
 *   16 columns, for each pair of k-indices, the 16 columns' two entries
 *   side by side (32 bfloat16 = 64 bytes a row of a B tile).
 * The AMX kernel multiplies 32 x 32 blocks of C with 2 x 2 accumulator
 * tiles (8 tiles in all: 4 of C, 2 of A, 2 of B), K 32 at a time, storing
 * through a 16 x 16 buffer where C ends mid-tile.
 *
 * Portable C except for the two kernels and their packers, compiled for
 * their instruction sets by target attributes only: the module runs on any
 * x86-64 CPU, and elsewhere fastmlp_bf16_support is 0.
 */
#ifndef FASTMLP_BF16_H
#define FASTMLP_BF16_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "_pool.h"

#define FASTMLP_BF16_NONE 0
#define FASTMLP_BF16_AVX512 1
#define FASTMLP_BF16_AMX 2

/* float -> bfloat16, to nearest, ties to even; NaN stays a (quiet) NaN. */
static inline uint16_t fastmlp_to_bf16(float value)
{
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    if ((bits & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t) ((bits >> 16) | 0x40u);
    bits += 0x7fffu + ((bits >> 16) & 1u);
    return (uint16_t) (bits >> 16);
}

static inline float fastmlp_from_bf16(uint16_t value)
{
    uint32_t bits = (uint32_t) value << 16;
    float out;
    memcpy(&out, &bits, sizeof out);
    return out;
}

/* float32 rounded to bfloat16's precision, as float32 (the reference the
 * tests hold the kernels to; and the emulation where no kernel runs). */
static inline void fastmlp_round_bf16(const float *x, float *out, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++)
        out[i] = fastmlp_from_bf16(fastmlp_to_bf16(x[i]));
}

#define FASTMLP_ROUND_UP(x, to) ((((x) + (to) - 1) / (to)) * (to))

/* op(A)[i][j] for row-major A. */
static inline float fastmlp_op(const float *a, int lda, int trans, int i, int j)
{
    return trans ? a[(Py_ssize_t) j * lda + i] : a[(Py_ssize_t) i * lda + j];
}

/* Pack op(A) (m x k) into m_pad rows of kp bfloat16 (zero padded). */
static inline void fastmlp_pack_a_reference(const float *a, int lda, int trans, int m,
                                            int k, int m_pad, int kp, uint16_t *out,
                                            int lo, int hi)
{
    /* (All of it, whatever the range: the portable path runs one part.) */
    (void) lo;
    (void) hi;
    for (int i = 0; i < m_pad; i++) {
        uint16_t *row = out + (Py_ssize_t) i * kp;
        int j = 0;
        if (i < m) {
            if (!trans) {
                const float *src = a + (Py_ssize_t) i * lda;
                for (; j < k; j++)
                    row[j] = fastmlp_to_bf16(src[j]);
            } else {
                for (; j < k; j++)
                    row[j] = fastmlp_to_bf16(a[(Py_ssize_t) j * lda + i]);
            }
        }
        for (; j < kp; j++)
            row[j] = 0;
    }
}

/* Pack op(B) (k x n) into VNNI blocks: out[(jb * kp / 2 + p) * 32 + 2 * jj + h]
 * = op(B)[2 p + h][16 jb + jj], zero beyond k and n. */
static inline void fastmlp_pack_b_reference(const float *b, int ldb, int trans, int k,
                                            int n, int kp, uint16_t *out, int lo, int hi)
{
    (void) lo;
    (void) hi;
    int n_blocks = FASTMLP_ROUND_UP(n, 16) / 16;
    for (int jb = 0; jb < n_blocks; jb++) {
        uint16_t *block = out + (Py_ssize_t) jb * (kp / 2) * 32;
        for (int p = 0; p < kp / 2; p++) {
            uint16_t *row = block + (Py_ssize_t) p * 32;
            for (int jj = 0; jj < 16; jj++) {
                int j = 16 * jb + jj;
                for (int h = 0; h < 2; h++) {
                    int kk = 2 * p + h;
                    row[2 * jj + h] = (j < n && kk < k)
                        ? fastmlp_to_bf16(fastmlp_op(b, ldb, trans, kk, j)) : 0;
                }
            }
        }
    }
}

/* Grown as needed, one per thread: packing allocates nothing per call. */
static __thread uint16_t *fastmlp_bf16_scratch[3];
static __thread size_t fastmlp_bf16_scratch_size[3];

static uint16_t *fastmlp_bf16_buffer(int which, size_t elements)
{
    if (fastmlp_bf16_scratch_size[which] < elements) {
        free(fastmlp_bf16_scratch[which]);
        size_t bytes = FASTMLP_ROUND_UP(elements * 2, 64);
        fastmlp_bf16_scratch[which] = (uint16_t *) aligned_alloc(64, bytes);
        fastmlp_bf16_scratch_size[which] =
            fastmlp_bf16_scratch[which] == NULL ? 0 : bytes / 2;
    }
    return fastmlp_bf16_scratch[which];
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FASTMLP_ARCH_REQ_XCOMP_PERM 0x1023
#define FASTMLP_XFEATURE_XTILEDATA 18

static int fastmlp_bf16_level = -1;

/* What this CPU (and OS) offers: FASTMLP_BF16_AMX, _AVX512 or _NONE. The
 * first call asks Linux for the AMX tile data (once per process). */
static int fastmlp_bf16_support(void)
{
    if (fastmlp_bf16_level >= 0)
        return fastmlp_bf16_level;
    unsigned int eax, ebx, ecx, edx;
    int level = FASTMLP_BF16_NONE;
    if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) {
        int avx512f = (ebx >> 16) & 1;
        int amx = ((edx >> 22) & 1) && ((edx >> 24) & 1);    /* AMX-BF16, AMX-TILE */
        unsigned int eax1 = 0, ebx1, ecx1, edx1;
        __get_cpuid_count(7, 1, &eax1, &ebx1, &ecx1, &edx1);
        int avx512_bf16 = avx512f && ((eax1 >> 5) & 1);
        /* The OS must save the AVX-512 state (XCR0 bits 5-7 and 1-2). */
        unsigned int xcr0_lo = 0, xcr0_hi = 0;
        if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) && ((ecx >> 27) & 1))
            __asm__("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
        int os_avx512 = (xcr0_lo & 0xe6u) == 0xe6u;
        if (avx512_bf16 && os_avx512) {
            level = FASTMLP_BF16_AVX512;
            if (amx && syscall(SYS_arch_prctl, FASTMLP_ARCH_REQ_XCOMP_PERM,
                               FASTMLP_XFEATURE_XTILEDATA) == 0)
                level = FASTMLP_BF16_AMX;
        }
    }
    fastmlp_bf16_level = level;
    return level;
}

/* The packers, vectorized where op(A) / op(B) are read along rows (each
 * conversion is vcvtne2ps2bf16's: to nearest even, like fastmlp_to_bf16,
 * but flushing float32 denormals to zero as the multiplies do anyway). A
 * transposed operand is converted row by row into 32-bit words (two
 * bfloat16 of one row) and the words are moved into place one by one. */
__attribute__((target("avx512f,avx512bw,avx512bf16")))
static void fastmlp_convert_row(const float *src, int n, uint16_t *dst)
{
    int j = 0;
    for (; j + 32 <= n; j += 32) {
        __m512bh both = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(src + j + 16),
                                            _mm512_loadu_ps(src + j));
        _mm512_storeu_si512((void *) (dst + j), (__m512i) both);
    }
    if (j < n) {
        int left = n - j;
        __mmask16 lo = left >= 16 ? (__mmask16) 0xffff : (__mmask16) ((1u << left) - 1u);
        __mmask16 hi = left > 16 ? (__mmask16) ((1u << (left - 16)) - 1u) : 0;
        __m512bh both = _mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(hi, src + j + 16),
                                            _mm512_maskz_loadu_ps(lo, src + j));
        _mm512_mask_storeu_epi16((void *) (dst + j),
                                 (__mmask32) ((1ull << left) - 1ull), (__m512i) both);
    }
}

/* Pack rows [lo, hi) of op(A) (m x k; rows beyond m are zeros) into rows
 * of kp bfloat16. A transposed A is packed by pairs of its rows instead
 * (ranges of pairs, [lo, hi) of kp / 2), each pair of a's rows giving one
 * 32-bit word of every row of out. */
__attribute__((target("avx512f,avx512bw,avx512bf16")))
static void fastmlp_pack_a(const float *a, int lda, int trans, int m, int k,
                           int m_pad, int kp, uint16_t *out, int lo, int hi)
{
    if (!trans) {
        for (int i = lo; i < hi; i++) {
            uint16_t *row = out + (Py_ssize_t) i * kp;
            int filled = 0;
            if (i < m) {
                fastmlp_convert_row(a + (Py_ssize_t) i * lda, k, row);
                filled = k;
            }
            memset(row + filled, 0, (size_t) (kp - filled) * 2);
        }
        return;
    }
    /* Sixteen pairs of a's rows at a time: for each column i, gathers of
     * the even and the odd rows' entries make 16 words of out's row i,
     * stored at once. Parts split the pairs at multiples of 16 where they
     * can (fastmlp_part_range's items are pairs; a ragged block masks). */
    uint32_t *words = (uint32_t *) out;
    Py_ssize_t stride = kp / 2;
    __m512i offsets = _mm512_mullo_epi32(
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30),
        _mm512_set1_epi32(lda));
    for (int q0 = lo; q0 < hi; q0 += 16) {
        int pairs = hi - q0 < 16 ? hi - q0 : 16;
        int even_rows = (k - 2 * q0 + 1) / 2, odd_rows = (k - 2 * q0) / 2;
        even_rows = even_rows < 0 ? 0 : (even_rows > pairs ? pairs : even_rows);
        odd_rows = odd_rows < 0 ? 0 : (odd_rows > pairs ? pairs : odd_rows);
        __mmask16 even_mask = (__mmask16) ((1u << even_rows) - 1u);
        __mmask16 odd_mask = (__mmask16) ((1u << odd_rows) - 1u);
        __mmask16 store_mask = (__mmask16) ((1u << pairs) - 1u);
        const float *base = a + (Py_ssize_t) 2 * q0 * lda;
        for (int i = 0; i < m_pad; i++) {
            __m512i word = _mm512_setzero_si512();
            if (i < m) {
                __m512 even = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), even_mask,
                                                       offsets, base + i, 4);
                __m512 odd = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), odd_mask,
                                                      offsets, base + lda + i, 4);
                __m512i low = _mm512_cvtepu16_epi32((__m256i) _mm512_cvtneps_pbh(even));
                __m512i high = _mm512_cvtepu16_epi32((__m256i) _mm512_cvtneps_pbh(odd));
                word = _mm512_or_si512(low, _mm512_slli_epi32(high, 16));
            }
            _mm512_mask_storeu_epi32((void *) (words + i * stride + q0), store_mask, word);
        }
    }
}

/* Pack op(B) (k x n) into the VNNI blocks, out[(jb kp / 2 + p) 32 + 2 jj + h]
 * = op(B)[2 p + h][16 jb + jj] (zero beyond k and n): pairs p in [lo, hi)
 * of kp / 2, or for a transposed B (whose rows are op(B)'s columns),
 * columns in [lo, hi) of n rounded up to 16. */
__attribute__((target("avx512f,avx512bw,avx512bf16")))
static void fastmlp_pack_b(const float *b, int ldb, int trans, int k, int n, int kp,
                           uint16_t *out, int lo, int hi)
{
    int n_blocks = FASTMLP_ROUND_UP(n, 16) / 16;
    uint32_t *words = (uint32_t *) out;       /* [jb][p][jj] */
    Py_ssize_t block = (Py_ssize_t) (kp / 2) * 16;
    if (!trans) {
        /* Rows 2p and 2p + 1 of op(B), 16 columns at a time, interleaved. */
        for (int p = lo; p < hi; p++) {
            int r0 = 2 * p, r1 = 2 * p + 1;
            for (int jb = 0; jb < n_blocks; jb++) {
                int left = n - 16 * jb;
                __mmask16 mask = left >= 16 ? (__mmask16) 0xffff
                                            : (__mmask16) ((1u << left) - 1u);
                __m512 even = r0 < k ? _mm512_maskz_loadu_ps(
                    mask, b + (Py_ssize_t) r0 * ldb + 16 * jb) : _mm512_setzero_ps();
                __m512 odd = r1 < k ? _mm512_maskz_loadu_ps(
                    mask, b + (Py_ssize_t) r1 * ldb + 16 * jb) : _mm512_setzero_ps();
                __m512i low = _mm512_cvtepu16_epi32((__m256i) _mm512_cvtneps_pbh(even));
                __m512i high = _mm512_cvtepu16_epi32((__m256i) _mm512_cvtneps_pbh(odd));
                _mm512_storeu_si512((void *) (words + jb * block + (Py_ssize_t) p * 16),
                                    _mm512_or_si512(low, _mm512_slli_epi32(high, 16)));
            }
        }
        return;
    }
    uint16_t *row = fastmlp_bf16_buffer(2, (size_t) kp);
    for (int j = lo; j < hi; j++) {
        uint32_t *dst = words + (j / 16) * block + (j % 16);
        if (j < n) {
            fastmlp_convert_row(b + (Py_ssize_t) j * ldb, k, row);
            memset(row + k, 0, (size_t) (kp - k) * 2);
            const uint32_t *pairs = (const uint32_t *) row;
            for (int p = 0; p < kp / 2; p++)
                dst[(Py_ssize_t) p * 16] = pairs[p];
        } else {
            for (int p = 0; p < kp / 2; p++)
                dst[(Py_ssize_t) p * 16] = 0;
        }
    }
}

struct fastmlp_tile_config {
    uint8_t palette;
    uint8_t start_row;
    uint8_t reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
};

/* C (m x n, ldc) = Ap @ Bp over kp, AMX: 2 x 2 tiles of 16 x 16 floats. */
__attribute__((target("amx-tile,amx-bf16,avx512f")))
static void fastmlp_amx_kernel(const uint16_t *ap, const uint16_t *bp, int m, int n,
                               int kp, float *c, int ldc, int i_lo, int i_hi,
                               int j_lo, int j_hi)
{
    struct fastmlp_tile_config config;
    memset(&config, 0, sizeof config);
    config.palette = 1;
    for (int t = 0; t < 8; t++) {
        config.rows[t] = 16;
        config.colsb[t] = 64;
    }
    _tile_loadconfig(&config);
    float spill[16 * 16] __attribute__((aligned(64)));
    int m_pad = FASTMLP_ROUND_UP(m, 16);
    Py_ssize_t a_stride = (Py_ssize_t) kp * 2;       /* bytes per A row */
    Py_ssize_t b_block = (Py_ssize_t) (kp / 2) * 64;  /* bytes per B block */
    /* Rows [32 i_lo, 32 i_hi) and 16-column blocks [j_lo, j_hi) of C. */
    for (int i0 = 32 * i_lo; i0 < m_pad && i0 < 32 * i_hi; i0 += 32) {
        int two_i = i0 + 16 < m_pad;
        for (int jb = j_lo; jb < j_hi; jb += 2) {
            int two_j = jb + 1 < j_hi;
            const char *a0 = (const char *) (ap + (Py_ssize_t) i0 * kp);
            const char *a1 = a0 + 16 * a_stride;
            const char *b0 = (const char *) bp + jb * b_block;
            const char *b1 = b0 + b_block;
            _tile_zero(0);
            _tile_zero(1);
            _tile_zero(2);
            _tile_zero(3);
            for (int kk = 0; kk < kp; kk += 32) {
                _tile_loadd(4, a0 + kk * 2, a_stride);
                _tile_loadd(6, b0 + (Py_ssize_t) kk * 32, 64);
                _tile_dpbf16ps(0, 4, 6);
                if (two_j) {
                    _tile_loadd(7, b1 + (Py_ssize_t) kk * 32, 64);
                    _tile_dpbf16ps(1, 4, 7);
                }
                if (two_i) {
                    _tile_loadd(5, a1 + kk * 2, a_stride);
                    _tile_dpbf16ps(2, 5, 6);
                    if (two_j)
                        _tile_dpbf16ps(3, 5, 7);
                }
            }
            for (int t = 0; t < 4; t++) {
                int di = (t >> 1) * 16, dj = (t & 1) * 16;
                if ((di && !two_i) || (dj && !two_j))
                    continue;
                int rows = m - (i0 + di), cols = n - (16 * jb + dj);
                if (rows <= 0 || cols <= 0)
                    continue;
                rows = rows < 16 ? rows : 16;
                cols = cols < 16 ? cols : 16;
                float *dst = c + (Py_ssize_t) (i0 + di) * ldc + 16 * jb + dj;
                if (rows == 16 && cols == 16) {
                    switch (t) {
                    case 0: _tile_stored(0, dst, (Py_ssize_t) ldc * 4); break;
                    case 1: _tile_stored(1, dst, (Py_ssize_t) ldc * 4); break;
                    case 2: _tile_stored(2, dst, (Py_ssize_t) ldc * 4); break;
                    default: _tile_stored(3, dst, (Py_ssize_t) ldc * 4); break;
                    }
                } else {
                    switch (t) {
                    case 0: _tile_stored(0, spill, 64); break;
                    case 1: _tile_stored(1, spill, 64); break;
                    case 2: _tile_stored(2, spill, 64); break;
                    default: _tile_stored(3, spill, 64); break;
                    }
                    for (int r = 0; r < rows; r++)
                        memcpy(dst + (Py_ssize_t) r * ldc, spill + 16 * r,
                               (size_t) cols * sizeof(float));
                }
            }
        }
    }
    _tile_release();
}

/* C = Ap @ Bp with AVX512-BF16: blocks of 4 rows x 4 16-column blocks of
 * C in 16 accumulators (4 broadcasts of A and 4 loads of B feed 16
 * vdpbf16ps per pair of k), the edges a row and a column block at a time.
 * Every entry of C sums its pairs of k in the same order either way. */
__attribute__((target("avx512f,avx512bf16")))
static void fastmlp_avx512_bf16_kernel(const uint16_t *ap, const uint16_t *bp, int m,
                                       int n, int kp, float *c, int ldc, int i_lo,
                                       int i_hi, int j_lo, int j_hi)
{
    int i_end = 32 * i_hi < m ? 32 * i_hi : m;
    int pairs = kp / 2;
    Py_ssize_t block = (Py_ssize_t) pairs * 32;      /* bf16 per B block */
    int i = 32 * i_lo;
    for (; i + 4 <= i_end; i += 4) {
        const uint32_t *a0 = (const uint32_t *) (ap + (Py_ssize_t) i * kp);
        const uint32_t *a1 = a0 + pairs, *a2 = a1 + pairs, *a3 = a2 + pairs;
        int jb = j_lo;
        for (; jb + 4 <= j_hi; jb += 4) {
            __m512 acc[4][4];
            for (int r = 0; r < 4; r++)
                for (int q = 0; q < 4; q++)
                    acc[r][q] = _mm512_setzero_ps();
            const uint16_t *b0 = bp + jb * block;
            for (int p = 0; p < pairs; p++) {
                __m512bh b[4];
                for (int q = 0; q < 4; q++)
                    b[q] = (__m512bh) _mm512_loadu_si512(
                        (const void *) (b0 + q * block + p * 32));
                __m512bh x0 = (__m512bh) _mm512_set1_epi32((int) a0[p]);
                __m512bh x1 = (__m512bh) _mm512_set1_epi32((int) a1[p]);
                __m512bh x2 = (__m512bh) _mm512_set1_epi32((int) a2[p]);
                __m512bh x3 = (__m512bh) _mm512_set1_epi32((int) a3[p]);
                for (int q = 0; q < 4; q++) {
                    acc[0][q] = _mm512_dpbf16_ps(acc[0][q], x0, b[q]);
                    acc[1][q] = _mm512_dpbf16_ps(acc[1][q], x1, b[q]);
                    acc[2][q] = _mm512_dpbf16_ps(acc[2][q], x2, b[q]);
                    acc[3][q] = _mm512_dpbf16_ps(acc[3][q], x3, b[q]);
                }
            }
            for (int q = 0; q < 4; q++) {
                int cols = n - 16 * (jb + q);
                if (cols <= 0)
                    break;
                __mmask16 mask = cols >= 16 ? (__mmask16) 0xffff
                                            : (__mmask16) ((1u << cols) - 1u);
                for (int r = 0; r < 4; r++)
                    _mm512_mask_storeu_ps(c + (Py_ssize_t) (i + r) * ldc + 16 * (jb + q),
                                          mask, acc[r][q]);
            }
        }
        /* The last column blocks, four rows at a time. */
        for (; jb < j_hi; jb++) {
            const uint16_t *b0 = bp + jb * block;
            __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
            for (int p = 0; p < pairs; p++) {
                __m512bh b = (__m512bh) _mm512_loadu_si512((const void *) (b0 + p * 32));
                acc0 = _mm512_dpbf16_ps(acc0, (__m512bh) _mm512_set1_epi32((int) a0[p]), b);
                acc1 = _mm512_dpbf16_ps(acc1, (__m512bh) _mm512_set1_epi32((int) a1[p]), b);
                acc2 = _mm512_dpbf16_ps(acc2, (__m512bh) _mm512_set1_epi32((int) a2[p]), b);
                acc3 = _mm512_dpbf16_ps(acc3, (__m512bh) _mm512_set1_epi32((int) a3[p]), b);
            }
            int cols = n - 16 * jb;
            __mmask16 mask = cols >= 16 ? (__mmask16) 0xffff
                                        : (__mmask16) ((1u << cols) - 1u);
            float *dst = c + (Py_ssize_t) i * ldc + 16 * jb;
            _mm512_mask_storeu_ps(dst, mask, acc0);
            _mm512_mask_storeu_ps(dst + ldc, mask, acc1);
            _mm512_mask_storeu_ps(dst + 2 * (Py_ssize_t) ldc, mask, acc2);
            _mm512_mask_storeu_ps(dst + 3 * (Py_ssize_t) ldc, mask, acc3);
        }
    }
    /* The last rows, one at a time. */
    for (; i < i_end; i++) {
        const uint32_t *arow = (const uint32_t *) (ap + (Py_ssize_t) i * kp);
        for (int jb = j_lo; jb < j_hi; jb++) {
            const uint16_t *b0 = bp + jb * block;
            __m512 acc = _mm512_setzero_ps();
            for (int p = 0; p < pairs; p++)
                acc = _mm512_dpbf16_ps(
                    acc, (__m512bh) _mm512_set1_epi32((int) arow[p]),
                    (__m512bh) _mm512_loadu_si512((const void *) (b0 + p * 32)));
            int cols = n - 16 * jb;
            __mmask16 mask = cols >= 16 ? (__mmask16) 0xffff
                                        : (__mmask16) ((1u << cols) - 1u);
            _mm512_mask_storeu_ps(c + (Py_ssize_t) i * ldc + 16 * jb, mask, acc);
        }
    }
}

#else
static int fastmlp_bf16_level = FASTMLP_BF16_NONE;
static int fastmlp_bf16_support(void) { return FASTMLP_BF16_NONE; }
#define fastmlp_pack_a fastmlp_pack_a_reference
#define fastmlp_pack_b fastmlp_pack_b_reference
static void fastmlp_amx_kernel(const uint16_t *ap, const uint16_t *bp, int m, int n,
                               int kp, float *c, int ldc, int i_lo, int i_hi, int j_lo,
                               int j_hi) { abort(); }
static void fastmlp_avx512_bf16_kernel(const uint16_t *ap, const uint16_t *bp, int m,
                                       int n, int kp, float *c, int ldc, int i_lo,
                                       int i_hi, int j_lo, int j_hi) { abort(); }
#endif

/* One GEMM's operands and packing, shared by its parts. */
typedef struct {
    int trans_a, trans_b, m, n, k, m_pad, kp, level, split_rows;
    const float *a, *b;
    int lda, ldb, ldc;
    float *c;
    uint16_t *ap, *bp;
} fastmlp_bf16_job;

static void fastmlp_bf16_pack_part(void *arg, int part, int n_parts)
{
    fastmlp_bf16_job *g = (fastmlp_bf16_job *) arg;
    ptrdiff_t lo, hi;
    int a_items = g->trans_a ? g->kp / 2 : g->m_pad;
    int b_items = g->trans_b ? FASTMLP_ROUND_UP(g->n, 16) : g->kp / 2;
    fastmlp_part_range(a_items, part, n_parts, 1, &lo, &hi);
    fastmlp_pack_a(g->a, g->lda, g->trans_a, g->m, g->k, g->m_pad, g->kp, g->ap,
                   (int) lo, (int) hi);
    fastmlp_part_range(b_items, part, n_parts, 1, &lo, &hi);
    fastmlp_pack_b(g->b, g->ldb, g->trans_b, g->k, g->n, g->kp, g->bp, (int) lo, (int) hi);
}

static void fastmlp_bf16_multiply_part(void *arg, int part, int n_parts)
{
    fastmlp_bf16_job *g = (fastmlp_bf16_job *) arg;
    int row_blocks = (g->m_pad + 31) / 32, col_blocks = FASTMLP_ROUND_UP(g->n, 16) / 16;
    ptrdiff_t lo, hi;
    int i_lo = 0, i_hi = row_blocks, j_lo = 0, j_hi = col_blocks;
    if (g->split_rows) {
        fastmlp_part_range(row_blocks, part, n_parts, 1, &lo, &hi);
        i_lo = (int) lo;
        i_hi = (int) hi;
    } else {
        /* In pairs of 16-column blocks: the kernel's 2 x 2 tiles. */
        fastmlp_part_range((col_blocks + 1) / 2, part, n_parts, 1, &lo, &hi);
        j_lo = 2 * (int) lo;
        j_hi = 2 * (int) hi < col_blocks ? 2 * (int) hi : col_blocks;
    }
    if (i_lo >= i_hi || j_lo >= j_hi)
        return;
    if (g->level == FASTMLP_BF16_AMX)
        fastmlp_amx_kernel(g->ap, g->bp, g->m, g->n, g->kp, g->c, g->ldc, i_lo, i_hi,
                           j_lo, j_hi);
    else
        fastmlp_avx512_bf16_kernel(g->ap, g->bp, g->m, g->n, g->kp, g->c, g->ldc, i_lo,
                                   i_hi, j_lo, j_hi);
}

/* For the tests: run the kernel of ``level`` (at most the CPU's). */
static void fastmlp_bf16_set_level(int level)
{
    fastmlp_bf16_level = level;
}

/* C (m x n, ldc) = op(A) @ op(B) in bfloat16 with float32 sums, split over
 * the pool from FASTMLP_PARALLEL_MIN_MACS multiply-adds; returns 0, or -1
 * when the CPU has no bfloat16 kernel or memory runs out (C untouched). */
static int fastmlp_bf16_gemm(int trans_a, int trans_b, int m, int n, int k,
                             const float *a, int lda, const float *b, int ldb,
                             float *c, int ldc)
{
    int level = fastmlp_bf16_support();
    if (level == FASTMLP_BF16_NONE)
        return -1;
    if (m <= 0 || n <= 0)
        return 0;
    fastmlp_bf16_job g;
    g.trans_a = trans_a;
    g.trans_b = trans_b;
    g.m = m;
    g.n = n;
    g.k = k;
    g.kp = FASTMLP_ROUND_UP(k > 0 ? k : 1, 32);
    g.m_pad = FASTMLP_ROUND_UP(m, 16);
    g.level = level;
    g.a = a;
    g.b = b;
    g.lda = lda;
    g.ldb = ldb;
    g.c = c;
    g.ldc = ldc;
    g.ap = fastmlp_bf16_buffer(0, (size_t) g.m_pad * g.kp);
    g.bp = fastmlp_bf16_buffer(1, (size_t) FASTMLP_ROUND_UP(n, 16) * g.kp);
    /* The transposed packers' row buffer, grown before the parts use it. */
    if (g.ap == NULL || g.bp == NULL
            || fastmlp_bf16_buffer(2, (size_t) 2 * (m > g.kp ? m : g.kp)) == NULL)
        return -1;
    int row_blocks = (g.m_pad + 31) / 32, col_pairs = (FASTMLP_ROUND_UP(n, 16) / 16 + 1) / 2;
    g.split_rows = row_blocks >= col_pairs;
    int parts = fastmlp_pool_parts((ptrdiff_t) m * n * (ptrdiff_t) k,
                                   FASTMLP_PARALLEL_MIN_MACS);
    int most = g.split_rows ? row_blocks : col_pairs;
    parts = parts < most ? parts : most;
    fastmlp_pool_dispatch(fastmlp_bf16_pack_part, &g, parts, 0);
    fastmlp_pool_dispatch(fastmlp_bf16_multiply_part, &g, parts, 0);
    return 0;
}

#endif

# bfloat16 GEMMs with float32 sums (matmul_precision="bfloat16"): _bf16.h.

cdef extern from "_bf16.h" nogil:
    int FASTMLP_BF16_NONE
    int FASTMLP_BF16_AVX512
    int FASTMLP_BF16_AMX
    int fastmlp_bf16_support()
    void fastmlp_bf16_set_level(int level)
    int fastmlp_bf16_gemm(int trans_a, int trans_b, int m, int n, int k,
                          const float *a, int lda, const float *b, int ldb,
                          float *c, int ldc)
    void fastmlp_round_bf16(const float *x, float *out, Py_ssize_t n)

/* FASTMLP_MULTIVERSION: where the toolchain can, a function carrying it is
 * compiled once for each wider x86 vector unit and the copy for this CPU is
 * picked at load time (GCC/Clang function multiversioning): the portable
 * baseline build only has SSE2, 2 doubles or 4 floats wide. */
#ifndef FASTMLP_MULTIVERSION_H
#define FASTMLP_MULTIVERSION_H

#if defined(__x86_64__) && defined(__linux__) && \
    (defined(__clang__) ? __clang_major__ >= 14 : (defined(__GNUC__) && __GNUC__ >= 6))
#define FASTMLP_MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define FASTMLP_MULTIVERSION
#endif

#endif

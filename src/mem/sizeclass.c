// sizeclass.c: Go's size classes and the lookup tables built from them.
//
// See malloc.h. The tables are Go's (internal/runtime/gc/sizeclasses.go):
// bytes per object, pages per span and objects per span for the 67 small
// classes; class 0 marks large objects. rt_size_to_class8[(s + 7) / 8] maps
// sizes up to 1024 bytes, rt_size_to_class128[(s - 1024 + 127) / 128] the
// rest up to 32 KiB. rt_class_to_divmagic[c] = 2^32 / size rounded up turns
// an offset into an object index by a multiply and a shift; for the offsets
// that occur (below the span's size) that is exact, which
// rt_sizeclass_init() checks for every offset of every class at start-up.
//
// The tables are constants, not built at init as C-era Go's msize.c did, so
// no allocation can ever see them half-made.
#include "mem/malloc.h"

const uint16_t rt_class_to_size[68] = {
        0,     8,     16,    24,    32,    48,    64,    80,    96,    112,   128,   144,
        160,   176,   192,   208,   224,   240,   256,   288,   320,   352,   384,   416,
        448,   480,   512,   576,   640,   704,   768,   896,   1024,  1152,  1280,  1408,
        1536,  1792,  2048,  2304,  2688,  3072,  3200,  3456,  4096,  4864,  5376,  6144,
        6528,  6784,  6912,  8192,  9472,  9728,  10240, 10880, 12288, 13568, 14336, 16384,
        18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768,
};

const uint8_t rt_class_to_npages[68] = {
        0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 2, 1, 2, 1, 3, 2,  3, 1, 3,
        2, 3, 4, 5, 6, 1, 7, 6, 5, 4, 3, 5, 7, 2, 9, 7, 5, 8, 3, 10, 7, 4,
};

const uint16_t rt_class_to_nelems[68] = {
        0,  1024, 512, 341, 256, 170, 128, 102, 85, 73, 64, 56, 51, 46, 42, 39, 36,
        34, 32,   28,  25,  23,  21,  19,  18,  17, 16, 14, 12, 11, 10, 9,  8,  7,
        6,  11,   5,   9,   4,   7,   3,   8,   5,  7,  2,  5,  3,  4,  5,  6,  7,
        1,  6,    5,   4,   3,   2,   3,   4,   1,  4,  3,  2,  3,  1,  3,  2,  1,
};

const uint32_t rt_class_to_divmagic[68] = {
        0,        536870912, 268435456, 178956971, 134217728, 89478486, 67108864, 53687092,
        44739243, 38347923,  33554432,  29826162,  26843546,  24403224, 22369622, 20648882,
        19173962, 17895698,  16777216,  14913081,  13421773,  12201612, 11184811, 10324441,
        9586981,  8947849,   8388608,   7456541,   6710887,   6100806,  5592406,  4793491,
        4194304,  3728271,   3355444,   3050403,   2796203,   2396746,  2097152,  1864136,
        1597831,  1398102,   1342178,   1242757,   1048576,   883012,   798916,   699051,
        657931,   633103,    621379,    524288,    453439,    441506,   419431,   394759,
        349526,   316552,    299594,    262144,    233017,    225198,   209716,   197380,
        174763,   157533,    149797,    131072,
};

const uint8_t rt_size_to_class8[129] = {
        0,  1,  2,  3,  4,  5,  5,  6,  6,  7,  7,  8,  8,  9,  9,  10, 10, 11, 11, 12, 12, 13,
        13, 14, 14, 15, 15, 16, 16, 17, 17, 18, 18, 19, 19, 19, 19, 20, 20, 20, 20, 21, 21, 21,
        21, 22, 22, 22, 22, 23, 23, 23, 23, 24, 24, 24, 24, 25, 25, 25, 25, 26, 26, 26, 26, 27,
        27, 27, 27, 27, 27, 27, 27, 28, 28, 28, 28, 28, 28, 28, 28, 29, 29, 29, 29, 29, 29, 29,
        29, 30, 30, 30, 30, 30, 30, 30, 30, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31,
        31, 31, 31, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32,
};

const uint8_t rt_size_to_class128[249] = {
        32, 33, 34, 35, 36, 37, 37, 38, 38, 39, 39, 40, 40, 40, 41, 41, 41, 42, 43, 43, 44, 44, 44,
        44, 44, 45, 45, 45, 45, 45, 45, 46, 46, 46, 46, 47, 47, 47, 47, 47, 47, 48, 48, 48, 49, 49,
        50, 51, 51, 51, 51, 51, 51, 51, 51, 51, 51, 52, 52, 52, 52, 52, 52, 52, 52, 52, 52, 53, 53,
        54, 54, 54, 54, 55, 55, 55, 55, 55, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 57, 57, 57,
        57, 57, 57, 57, 57, 57, 57, 58, 58, 58, 58, 58, 58, 59, 59, 59, 59, 59, 59, 59, 59, 59, 59,
        59, 59, 59, 59, 59, 59, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 61,
        61, 61, 61, 61, 62, 62, 62, 62, 62, 62, 62, 62, 62, 62, 62, 63, 63, 63, 63, 63, 63, 63, 63,
        63, 63, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
        64, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 66,
        66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 67, 67, 67, 67, 67, 67, 67, 67, 67, 67, 67, 67, 67,
        67, 67, 67, 67, 67, 67, 67, 67, 67, 67, 67, 67, 67, 67, 67, 67, 67, 67, 67,
};

void
rt_sizeclass_init(void)
{
    for (uint32_t c = 1; c < NUM_SIZE_CLASSES; c++) {
        uint32_t size = rt_class_to_size[c];
        uint32_t spanbytes = (uint32_t)rt_class_to_npages[c] * PAGE_SIZE;
        if (size <= rt_class_to_size[c - 1] || rt_class_to_nelems[c] != spanbytes / size ||
            rt_class_to_nelems[c] > MAX_OBJS_PER_SPAN || size % 8 != 0)
            rt_throw("sizeclass: bad class table");
        uint64_t magic = rt_class_to_divmagic[c];
        // Every offset inside an object, interior ones included (the
        // collector maps interior pointers): (off * magic) >> 32 is monotonic
        // in off, so checking each object's first and last byte covers all.
        for (uint32_t n = 0; n < rt_class_to_nelems[c]; n++) {
            uint64_t first = (uint64_t)n * size, last = first + size - 1;
            if ((first * magic) >> 32 != n || (last * magic) >> 32 != n) {
                rt_printf("sizeclass: class %u size %u object %u\n", c, size, n);
                rt_throw("sizeclass: magic division is not exact");
            }
        }
    }
    // Each lookup must give the smallest class that fits.
    for (uintptr_t size = 1; size <= MAX_SMALL_SIZE; size++) {
        uint8_t c = rt_size_to_class(size);
        if (c == 0 || c >= NUM_SIZE_CLASSES || rt_class_to_size[c] < size ||
            rt_class_to_size[c - 1] >= size)
            rt_throw("sizeclass: bad size-to-class table");
    }
}

// The OpenCL C API for Swift, and clFFT (the FFT library PME uses on the device). We target
// OpenCL 1.2: it is what PoCL, NVIDIA and AMD all implement without optional features, and
// naming it keeps the headers from warning about APIs (clCreateCommandQueue) that 2.0
// deprecated but every driver still ships.
#ifndef LOREM_COPENCL_SHIM_H
#define LOREM_COPENCL_SHIM_H
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <clFFT.h>
#endif

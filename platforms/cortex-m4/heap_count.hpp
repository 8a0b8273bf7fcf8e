// SPDX-License-Identifier: Apache-2.0
// Calls made so far to any allocator entry point of the image (heap_count.cpp wraps them all).
// newlib's stdio allocates its buffer on the first printf: take a count after that, then compare.
#pragma once

unsigned heap_calls();

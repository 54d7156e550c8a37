#pragma once
/// Symbol visibility for libveil-sdk. Plugins are built with hidden visibility; the SDK's
/// classes are exported so that their vtables and type info live once, in libveil-sdk.

#if defined(_WIN32)
#define VEIL_SDK_API __declspec(dllimport)
#else
#define VEIL_SDK_API __attribute__((visibility("default")))
#endif

/* libimgsync: export macro shared by every public header. */
#ifndef IMGSYNC_EXPORT_H
#define IMGSYNC_EXPORT_H

/*
 * IMGSYNC_EXTERN marks a public function. On Windows a consumer imports it from the DLL
 * (dllimport) unless it links the static library and defines IMGSYNC_STATIC; the library's own
 * build defines IMGSYNC_BUILDING_LIBRARY to export it. Elsewhere it gives default visibility
 * (the library is built with -fvisibility=hidden).
 */
#if defined(_WIN32) || defined(__CYGWIN__)
#if defined(IMGSYNC_BUILDING_LIBRARY)
#define IMGSYNC_EXTERN __declspec(dllexport)
#elif defined(IMGSYNC_STATIC)
#define IMGSYNC_EXTERN
#else
#define IMGSYNC_EXTERN __declspec(dllimport)
#endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#define IMGSYNC_EXTERN __attribute__((visibility("default")))
#else
#define IMGSYNC_EXTERN
#endif

#endif /* IMGSYNC_EXPORT_H */

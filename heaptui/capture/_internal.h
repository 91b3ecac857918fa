/* WALK_INTERNAL marks what one file of heaptui.capture._walk gives the others (functions and
 * data): hidden visibility, so the built extension exports PyInit__walk only and the compiler
 * may inline these functions inside their own file. */
#ifndef HEAPTUI_INTERNAL_H
#define HEAPTUI_INTERNAL_H

#if defined(__GNUC__) || defined(__clang__)
#define WALK_INTERNAL __attribute__((visibility("hidden")))
#else
#define WALK_INTERNAL
#endif

#endif

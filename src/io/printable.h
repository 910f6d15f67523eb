/* printable.h - error messages of the readers quote names taken from the file (links,
 * attributes, ZIP entries): their control bytes become '?', so that a message printed to a
 * terminal or a page cannot carry escape sequences. Not public. */
#ifndef GRADCAM_IO_PRINTABLE_H
#define GRADCAM_IO_PRINTABLE_H

static inline void gc_io_printable(char *s) {
  for (; s && *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f) *s = '?';
}

#endif

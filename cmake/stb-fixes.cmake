# stb-fixes.cmake - put Debian's stb_image.h (libstb-dev 0.0~git20220908) into the build tree
# with fixes for memory-safety bugs the fuzzer found (tests/fuzz, README "Fuzzing and
# sanitizers"). Each fix is a text replacement; a fix already present upstream is skipped, and
# a header that matches neither form stops the configuration, so that no fix is silently lost.
# Input: STB_INCLUDE_DIR; output: ${CMAKE_BINARY_DIR}/stb-include/stb/stb_image.h
file(READ "${STB_INCLUDE_DIR}/stb/stb_image.h" _stb)

function(_stb_fix name old new)
  string(FIND "${_stb}" "${new}" _done)
  if(_done GREATER -1)
    return()
  endif()
  string(FIND "${_stb}" "${old}" _at)
  if(_at EQUAL -1)
    message(FATAL_ERROR "stb_image.h: the code fix '${name}' applies to was not found; "
                        "check cmake/stb-fixes.cmake against this version of libstb-dev")
  endif()
  string(REPLACE "${old}" "${new}" _out "${_stb}")
  set(_stb "${_out}" PARENT_SCOPE)
endfunction()

# 1. JPEG DHT segment: the 16 code-length counts may add up to 4080, but a Huffman table holds
#    256 symbols; stbi__build_huffman and the value loop then write past size[257]/values[256]
#    (heap overflow inside stbi__jpeg). Upstream later added the same check.
_stb_fix("jpeg-dht-count"
"               n += sizes[i];
            }
            L -= 17;"
"               n += sizes[i];
            }
            if (n > 256) return stbi__err(\"bad DHT header\",\"Corrupt JPEG\"); /* gradcam fix */
            L -= 17;")

# 2. 16-bit PNM (maxval > 255) converted to another channel count: stbi__pnm_load used the
#    8-bit stbi__convert_format on 16-bit samples, so the buffer it returned was half the size
#    stbi__convert_16_to_8 then read (heap over-read). Upstream later made the same change.
_stb_fix("pnm-16-bit-convert"
"   if (req_comp && req_comp != s->img_n) {
      out = stbi__convert_format(out, s->img_n, req_comp, s->img_x, s->img_y);
      if (out == NULL) return out; // stbi__convert_format frees input on failure
   }
   return out;
}

static int      stbi__pnm_isspace(char c)"
"   if (req_comp && req_comp != s->img_n) {
      if (ri->bits_per_channel == 16) /* gradcam fix */
         out = (stbi_uc *) stbi__convert_format16((stbi__uint16 *) out, s->img_n, req_comp, s->img_x, s->img_y);
      else
         out = stbi__convert_format(out, s->img_n, req_comp, s->img_x, s->img_y);
      if (out == NULL) return out; // stbi__convert_format frees input on failure
   }
   return out;
}

static int      stbi__pnm_isspace(char c)")

# 3. zlib: a valid stream whose last codes lie in its last 16 bits fails ("bad huffman code"):
#    stbi__zhuffman_decode gives up as soon as fewer than 16 bits are buffered at the end of the
#    input. PNG hides this behind the Adler-32 trailer of its zlib stream; raw deflate (ZIP
#    entries, src/io/zip.c) has no trailer. Past the end, 16 zero bits are supplied once, and a
#    block whose end needed them is an error. Upstream later made the same change.
_stb_fix("zlib-end-struct"
"   int   z_expandable;

   stbi__zhuffman z_length, z_distance;
} stbi__zbuf;"
"   int   z_expandable;
   int   hit_zeof_once; /* gradcam fix */

   stbi__zhuffman z_length, z_distance;
} stbi__zbuf;")
_stb_fix("zlib-end-decode"
"   if (a->num_bits < 16) {
      if (stbi__zeof(a)) {
         return -1;   /* report error for unexpected end of data. */
      }
      stbi__fill_bits(a);
   }"
"   if (a->num_bits < 16) {
      if (stbi__zeof(a)) { /* gradcam fix: 16 zero bits past the end, once */
         if (a->hit_zeof_once) return -1;
         a->hit_zeof_once = 1;
         a->num_bits += 16;
      } else {
         stbi__fill_bits(a);
      }
   }")
_stb_fix("zlib-end-block"
"         if (z == 256) {
            a->zout = zout;
            return 1;
         }"
"         if (z == 256) {
            a->zout = zout;
            if (a->hit_zeof_once && a->num_bits < 16) /* gradcam fix: the block used bits past the end */
               return stbi__err(\"unexpected end\",\"Corrupt PNG\");
            return 1;
         }")
_stb_fix("zlib-end-init"
"   a->num_bits = 0;
   a->code_buffer = 0;
   do {"
"   a->num_bits = 0;
   a->code_buffer = 0;
   a->hit_zeof_once = 0; /* gradcam fix */
   do {")

file(WRITE "${CMAKE_BINARY_DIR}/stb-include/stb_image.h.tmp" "${_stb}")
configure_file("${CMAKE_BINARY_DIR}/stb-include/stb_image.h.tmp" "${CMAKE_BINARY_DIR}/stb-include/stb/stb_image.h"
               COPYONLY)

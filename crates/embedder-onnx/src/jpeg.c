/* JPEG decoding straight to BGR through libjpeg(-turbo), for decode.rs.
 *
 * OpenCV 4.6 asks libjpeg for RGB rows and swaps every pixel to BGR in a scalar loop (about
 * a third of its decode time on a 24 MP photo at half scale); libjpeg-turbo writes BGR itself
 * (JCS_EXT_BGR), with the same arithmetic, so the pixels are identical. Errors never leave
 * this file as a longjmp: the entry point sets its own jump target and answers a status with
 * libjpeg's message. */

#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <jpeglib.h>

#ifndef JCS_EXTENSIONS
#error "libjpeg-turbo (JCS_EXT_BGR) is required"
#endif

enum { FP_OK = 0, FP_ERROR = 1, FP_UNSUPPORTED = 2 };

struct fp_error {
  struct jpeg_error_mgr pub;
  jmp_buf jump;
  char *message;
  size_t message_len;
};

static void fp_error_exit(j_common_ptr cinfo) {
  struct fp_error *err = (struct fp_error *)cinfo->err;
  char buffer[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, buffer);
  if (err->message_len > 0) {
    snprintf(err->message, err->message_len, "%s", buffer);
  }
  longjmp(err->jump, 1);
}

/* Warnings (corrupt but decodable data) are not printed: as OpenCV, the image is decoded. */
static void fp_output_message(j_common_ptr cinfo) { (void)cinfo; }

/* Routes libjpeg's errors to `err` (message, then a longjmp to the caller's setjmp) and
 * creates the decompressor. */
static void fp_create(struct jpeg_decompress_struct *cinfo, struct fp_error *err, char *message,
                      size_t message_len) {
  cinfo->err = jpeg_std_error(&err->pub);
  err->pub.error_exit = fp_error_exit;
  err->pub.output_message = fp_output_message;
  err->message = message;
  err->message_len = message_len;
  jpeg_create_decompress(cinfo);
}

/* Reads the header and sets the output: 1/denom scale, BGR. FP_UNSUPPORTED for colour spaces
 * libjpeg cannot turn into BGR (CMYK, YCCK). */
static int fp_setup(struct jpeg_decompress_struct *cinfo, const unsigned char *data,
                    unsigned long len, int denom) {
  jpeg_mem_src(cinfo, data, len);
  jpeg_read_header(cinfo, TRUE);
  switch (cinfo->jpeg_color_space) {
  case JCS_GRAYSCALE:
  case JCS_YCbCr:
  case JCS_RGB:
    break;
  default:
    snprintf(((struct fp_error *)cinfo->err)->message, ((struct fp_error *)cinfo->err)->message_len,
             "JPEG colour space %d has no BGR conversion", (int)cinfo->jpeg_color_space);
    return FP_UNSUPPORTED;
  }
  cinfo->out_color_space = JCS_EXT_BGR;
  cinfo->scale_num = 1;
  cinfo->scale_denom = (unsigned int)denom;
  jpeg_calc_output_dimensions(cinfo);
  return FP_OK;
}

/* Decodes rows [y, y + h) and at least the columns [x, x + w) of `data` at 1/denom scale into
 * `out` (rows of `stride` bytes with room for `max_width` BGR pixels); the whole image is the
 * region (0, 0, width, height), its size at that scale rounded up. libjpeg widens a narrower region to whole
 * iMCUs: the first column decoded and the count are answered in `out_x` and `out_w`. Rows
 * above `y` are skipped (entropy-decoded only), rows below are never read. */
int fp_jpeg_decode(const unsigned char *data, unsigned long len, int denom, int x, int y, int w,
                   int h, unsigned char *out, size_t stride, int max_width, int *out_x, int *out_w,
                   char *message, size_t message_len) {
  struct jpeg_decompress_struct cinfo;
  struct fp_error err;
  JDIMENSION xoffset, width, row;
  int status;
  fp_create(&cinfo, &err, message, message_len);
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return FP_ERROR;
  }
  status = fp_setup(&cinfo, data, len, denom);
  if (status != FP_OK) {
    jpeg_destroy_decompress(&cinfo);
    return status;
  }
  if (x < 0 || y < 0 || w <= 0 || h <= 0 || (JDIMENSION)(x + w) > cinfo.output_width ||
      (JDIMENSION)(y + h) > cinfo.output_height) {
    snprintf(message, message_len, "region outside the image");
    jpeg_destroy_decompress(&cinfo);
    return FP_ERROR;
  }
  jpeg_start_decompress(&cinfo);
  xoffset = (JDIMENSION)x;
  width = (JDIMENSION)w;
  jpeg_crop_scanline(&cinfo, &xoffset, &width);
  if (width > (JDIMENSION)max_width || cinfo.output_width != width) {
    snprintf(message, message_len, "cropped width %u exceeds the buffer", (unsigned)width);
    jpeg_destroy_decompress(&cinfo);
    return FP_ERROR;
  }
  if (y > 0 && jpeg_skip_scanlines(&cinfo, (JDIMENSION)y) != (JDIMENSION)y) {
    snprintf(message, message_len, "could not skip to row %d", y);
    jpeg_destroy_decompress(&cinfo);
    return FP_ERROR;
  }
  for (row = 0; row < (JDIMENSION)h;) {
    JSAMPROW rows[16];
    JDIMENSION count = (JDIMENSION)h - row;
    JDIMENSION i, read;
    if (count > 16) {
      count = 16;
    }
    for (i = 0; i < count; i++) {
      rows[i] = out + (size_t)(row + i) * stride;
    }
    read = jpeg_read_scanlines(&cinfo, rows, count);
    if (read == 0) {
      snprintf(message, message_len, "the decoder stopped before the last row");
      jpeg_destroy_decompress(&cinfo);
      return FP_ERROR;
    }
    row += read;
  }
  *out_x = (int)xoffset;
  *out_w = (int)width;
  jpeg_abort_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return FP_OK;
}

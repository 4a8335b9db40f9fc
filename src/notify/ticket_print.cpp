#include "notify/ticket_print.hpp"

#include <cairo-pdf.h>
#include <cairo.h>
#include <qrencode.h>

#include <ctime>
#include <memory>

namespace ticketd::notify {

using core::Code;
using core::make_error;

namespace {

constexpr int kQuietModules = 4;
constexpr double kPointsPerMm = 72.0 / 25.4;
constexpr double kPageWidthPt = 105 * kPointsPerMm;  // A6
constexpr double kPageHeightPt = 148 * kPointsPerMm;

struct QrFree {
  void operator()(QRcode* q) const { QRcode_free(q); }
};
using Qr = std::unique_ptr<QRcode, QrFree>;

struct SurfaceFree {
  void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
};
struct ContextFree {
  void operator()(cairo_t* c) const { cairo_destroy(c); }
};
using Surface = std::unique_ptr<cairo_surface_t, SurfaceFree>;
using Context = std::unique_ptr<cairo_t, ContextFree>;

cairo_status_t append(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

// libqrencode picks the densest modes itself (alphanumeric for ticket codes) with QR_MODE_8 as the hint
// and case sensitivity on.
core::Result<Qr> encode(std::string_view text) {
  if (text.empty() || text.size() > kQrTextBytesMax) return make_error(Code::InvalidRequest, "QR text: 1-512 bytes");
  const std::string z(text);
  Qr qr(QRcode_encodeString(z.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1));
  if (!qr) return make_error(Code::InvalidRequest, "QR text: cannot be encoded");
  return qr;
}

// Draws the code's modules with their quiet zone, `side` points wide, top-left at (x, y).
void draw_qr(cairo_t* cr, const QRcode& qr, double x, double y, double side) {
  const int total = qr.width + 2 * kQuietModules;
  const double m = side / total;
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_rectangle(cr, x, y, side, side);
  cairo_fill(cr);
  cairo_set_source_rgb(cr, 0, 0, 0);
  for (int r = 0; r < qr.width; ++r)
    for (int c = 0; c < qr.width; ++c)
      if (qr.data[r * qr.width + c] & 1) cairo_rectangle(cr, x + (c + kQuietModules) * m, y + (r + kQuietModules) * m, m, m);
  cairo_fill(cr);
}

// One line of text, shrunk until it fits the width (long event names).
void line(cairo_t* cr, const std::string& text, double x, double y, double size, double width_max, bool bold) {
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  for (;; size *= 0.9) {
    cairo_set_font_size(cr, size);
    cairo_text_extents_t ext;
    cairo_text_extents(cr, text.c_str(), &ext);
    if (ext.x_advance <= width_max || size < 5) break;
  }
  cairo_move_to(cr, x, y);
  cairo_show_text(cr, text.c_str());
}

}  // namespace

core::Result<std::string> qr_png(std::string_view text, int module_px) {
  if (module_px < 1 || module_px > 32) return make_error(Code::InvalidRequest, "module size: 1-32 pixels");
  auto qr = encode(text);
  if (!qr) return qr.error();
  const int side = ((*qr)->width + 2 * kQuietModules) * module_px;
  Surface surface(cairo_image_surface_create(CAIRO_FORMAT_RGB24, side, side));
  Context cr(cairo_create(surface.get()));
  cairo_set_antialias(cr.get(), CAIRO_ANTIALIAS_NONE);  // crisp module edges for camera decoders
  draw_qr(cr.get(), **qr, 0, 0, side);
  cairo_surface_flush(surface.get());
  std::string png;
  if (cairo_surface_write_to_png_stream(surface.get(), append, &png) != CAIRO_STATUS_SUCCESS)
    return make_error(Code::Unavailable, "PNG encoding failed");
  return png;
}

core::Result<std::string> tickets_pdf(const std::vector<PrintedTicket>& tickets) {
  if (tickets.empty() || tickets.size() > kPrintedTicketsMax)
    return make_error(Code::InvalidRequest, "tickets: 1-100 per PDF");
  std::string pdf;
  {
    Surface surface(cairo_pdf_surface_create_for_stream(append, &pdf, kPageWidthPt, kPageHeightPt));
    Context cr(cairo_create(surface.get()));
    const double margin = 8 * kPointsPerMm;
    const double width = kPageWidthPt - 2 * margin;
    for (const PrintedTicket& t : tickets) {
      auto qr = encode(t.code);
      if (!qr) return qr.error();
      cairo_set_source_rgb(cr.get(), 0, 0, 0);
      double y = margin + 12;
      line(cr.get(), t.event_name, margin, y, 15, width, true);
      line(cr.get(), t.venue_name + ", " + format_utc_minutes(t.starts_at), margin, y += 17, 9, width, false);
      line(cr.get(), t.seat, margin, y += 22, 13, width, true);
      line(cr.get(), t.holder, margin, y += 15, 9, width, false);
      draw_qr(cr.get(), **qr, margin, y + 10, width);
      cairo_set_source_rgb(cr.get(), 0.35, 0.35, 0.4);
      line(cr.get(), "Ticket " + t.ticket_id, margin, kPageHeightPt - margin, 7, width, false);
      cairo_show_page(cr.get());
    }
    cairo_surface_finish(surface.get());
    if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS)
      return make_error(Code::Unavailable, "PDF rendering failed");
  }
  return pdf;
}

}  // namespace ticketd::notify

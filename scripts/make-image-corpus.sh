#!/usr/bin/env bash
# Makes the image corpus for the exif-strip tests (tests/data/images): small real JPEG, PNG,
# WebP, TIFF and GIF files carrying every kind of metadata the stripper must remove (EXIF with GPS, a Nikon
# maker note with a serial number, XMP, IPTC, comments, an EXIF thumbnail, PNG text/eXIf/tIME
# chunks, WebP EXIF/XMP chunks, data after the end marker) plus the parts it must keep (an ICC
# profile, the Adobe APP14 marker, restart markers, palette transparency, TIFF pages and tiles,
# GIF animation).
# Uses Debian's imagemagick, libimage-exiftool-perl, webp, libjpeg-turbo-progs, icc-profiles-free.
# The committed files are the reference; re-running gives equivalent (not byte-identical) files.
# Usage: scripts/make-image-corpus.sh [OUT_DIR [FORMAT...]]   (default tests/data/images, every
# format; e.g. `scripts/make-image-corpus.sh tests/data/images tiff gif` remakes only those)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-tests/data/images}
[ $# -gt 1 ] && shift && formats=" $* " || formats=" jpeg png webp tiff gif "
want() { [[ $formats == *" $1 "* ]]; }
icc=/usr/share/color/icc/sRGB.icc
for tool in convert exiftool cwebp cjpeg img2webp; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run scripts/setup.sh" >&2; exit 1; }
done
[ -r "$icc" ] || { echo "missing $icc (icc-profiles-free)" >&2; exit 1; }
for f in $formats; do mkdir -p "$out/$f"; done
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# A photo-like picture: a fractal plasma with a little noise, fixed seed.
convert -size 320x240 -seed 42 plasma:fractal -attenuate 0.3 +noise Gaussian -depth 8 "$tmp/photo.ppm"
convert "$tmp/photo.ppm" -resize 80x60 "$tmp/thumb.jpg"

# A Nikon type-3 maker note (self-contained TIFF): version 0210 and a camera serial number.
printf 'Nikon\0\002\020\0\0MM\0\052\0\0\0\010\0\002\0\001\0\007\0\0\0\0040210\0\035\0\002\0\0\0\010\0\0\0\046\0\0\0\0SN740013\0' \
  > "$tmp/makernote.bin"

# Identifying metadata as a phone or camera writes it.
exif_args=(
  -Make=NIKON "-Model=NIKON D750" -Software=Ver.1.10 "-Artist=Alice Example"
  "-Copyright=Alice Example" "-DateTimeOriginal=2026:05:01 12:34:56" -SerialNumber=3020551
  "-LensModel=24-120mm f/4" "-OwnerName=Alice Example" -ImageUniqueID=0123456789abcdef0123456789abcdef
  -GPSLatitude=48.858370 -GPSLatitudeRef=N -GPSLongitude=2.294481 -GPSLongitudeRef=E
  -GPSAltitude=35 -GPSAltitudeRef=0 "-GPSDateStamp=2026:05:01" "-GPSTimeStamp=10:34:56"
  -Orientation#=6
)
xmp_args=("-XMP-dc:Creator=Alice Example" "-XMP-dc:Description=Our flat, 3rd floor"
  "-XMP-photoshop:City=Paris" "-XMP-xmp:CreatorTool=PhotoApp 2.0"
  -XMP-exif:GPSLatitude=48.858370 -XMP-exif:GPSLongitude=2.294481)
iptc_args=("-IPTC:By-line=Alice Example" -IPTC:City=Paris "-IPTC:Keywords=home"
  "-IPTC:Caption-Abstract=Our flat" -IPTC:CopyrightNotice=Alice)
ex() { exiftool -q -q -overwrite_original "$@"; }

jpeg_full() {  # $1 = output, rest = cjpeg options
  local f=$1; shift
  cjpeg -quality 82 "$@" "$tmp/photo.ppm" > "$f"
  ex "${exif_args[@]}" "-MakerNotes<=$tmp/makernote.bin" "-ThumbnailImage<=$tmp/thumb.jpg" \
     "${xmp_args[@]}" "${iptc_args[@]}" "-ICC_Profile<=$icc" \
     "-Comment=Shot by Alice at home, 12 rue Example" "$f"
  printf 'TRAILER: Alice Example, device serial 3020551\n' >> "$f"   # data after EOI
}
if want jpeg; then
jpeg_full "$out/jpeg/baseline-full.jpg"
jpeg_full "$out/jpeg/progressive-full.jpg" -progressive
jpeg_full "$out/jpeg/restart-markers.jpg" -restart 2 -optimize

# CMYK with an Adobe APP14 marker (needed to decode it) plus EXIF and XMP.
convert "$tmp/photo.ppm" -resize 160x120 -colorspace CMYK -quality 80 "$out/jpeg/cmyk-adobe.jpg"
ex "${exif_args[@]}" "${xmp_args[@]}" "$out/jpeg/cmyk-adobe.jpg"

# Greyscale, no metadata at all: the stripper must leave the image data alone.
cjpeg -quality 75 -grayscale "$tmp/photo.ppm" > "$out/jpeg/gray-plain.jpg"
fi

if want png; then
# PNG as ImageMagick writes it from a camera JPEG: eXIf, tEXt, zTXt (raw EXIF/IPTC/XMP
# profiles, maker note), tIME, iCCP; then exiftool adds iTXt (XMP); then data after IEND.
convert "$out/jpeg/baseline-full.jpg" -resize 160x120 "$out/png/rgb-full.png"
ex "-XMP-dc:Creator=Alice Example" "-XMP-photoshop:City=Paris" "-PNG:Author=Alice Example" "$out/png/rgb-full.png"
printf 'TRAILER: Alice Example\n' >> "$out/png/rgb-full.png"

# Palette PNG with transparency (tRNS must survive) and text.
convert -size 96x64 -seed 7 plasma:red-blue -colors 16 -transparent "$(convert -size 96x64 -seed 7 plasma:red-blue -colors 16 -format '%[pixel:p{0,0}]' info:)" \
  PNG8:"$out/png/palette-trns.png"
ex "-PNG:Author=Alice Example" "-PNG:Title=Secret map" "-PNG:ModifyDate=2026:05:01 12:34:56" \
   "-GPSLatitude=48.85" -GPSLatitudeRef=N "$out/png/palette-trns.png"
fi

if want webp; then
# WebP: lossy with ICC + EXIF + XMP (VP8X), lossless with alpha + EXIF + XMP, and a plain one.
convert "$tmp/photo.ppm" -resize 160x120 "$tmp/small.png"
cwebp -quiet -q 75 "$tmp/small.png" -o "$out/webp/lossy-full.webp"
ex "${exif_args[@]}" "${xmp_args[@]}" "-ICC_Profile<=$icc" "$out/webp/lossy-full.webp"
convert "$tmp/small.png" -alpha set -channel A -evaluate set 60% +channel -resize 64x48 "$tmp/alpha.png"
cwebp -quiet -lossless "$tmp/alpha.png" -o "$out/webp/lossless-alpha-full.webp"
ex "${exif_args[@]}" "${xmp_args[@]}" "$out/webp/lossless-alpha-full.webp"
cwebp -quiet -q 70 "$tmp/small.png" -o "$out/webp/simple-plain.webp"
# Animated WebP (ANIM + ANMF frames) with EXIF and XMP.
convert -size 48x32 -seed 1 plasma:fractal "$tmp/f1.png"
convert -size 48x32 -seed 2 plasma:fractal "$tmp/f2.png"
img2webp -loop 0 -lossy -q 60 -d 200 "$tmp/f1.png" "$tmp/f2.png" -o "$out/webp/animated-full.webp" >/dev/null 2>&1
ex "-XMP-dc:Creator=Alice Example" "-Artist=Alice Example" -GPSLatitude=48.85 -GPSLatitudeRef=N -Orientation#=3 \
   "$out/webp/animated-full.webp"
fi

if want tiff; then
# TIFF: two LZW pages (little-endian) with EXIF, GPS, XMP, IPTC and text tags in IFD0, text
# tags in IFD1 too, and a SubIFD thumbnail; one big-endian uncompressed page; one tiled page
# with an ICC profile.
convert "$tmp/photo.ppm" -resize 120x90 "$tmp/p1.ppm"
convert -size 120x90 -seed 5 plasma:fractal -depth 8 "$tmp/p2.ppm"
convert "$tmp/p1.ppm" "$tmp/p2.ppm" -compress lzw "$out/tiff/pages-lzw-full.tif"
convert "$tmp/p1.ppm" -compress none -define tiff:endian=msb "$out/tiff/mm-plain-full.tif"
convert "$tmp/photo.ppm" -resize 96x72 -compress zip -define tiff:tile-geometry=32x32 "$out/tiff/tiled-icc-full.tif"
tiff_args=("${exif_args[@]}" "${xmp_args[@]}" "${iptc_args[@]}" "-ImageDescription=Our flat, 3rd floor"
  -HostComputer=alice-laptop "-DocumentName=holiday")
for f in "$out"/tiff/*.tif; do ex "${tiff_args[@]}" "$f"; done
ex "-ICC_Profile<=$icc" "$out/tiff/tiled-icc-full.tif"
ex "-IFD1:Artist=Alice Example" "-IFD1:Make=NIKON" "-IFD1:ModifyDate=2026:05:01 12:34:56" "$out/tiff/pages-lzw-full.tif"
python3 scripts/tiff-add-thumbnail.py "$out/tiff/pages-lzw-full.tif"
fi

if want gif; then
# GIF89a: three animated frames (NETSCAPE2.0 loop), a comment, an XMP application extension,
# data after the trailer; GIF87a: one frame, nothing to remove but the trailer.
for i in 1 2 3; do convert -size 48x32 -seed "$i" plasma:fractal "$tmp/g$i.png"; done
convert -delay 20 -loop 0 "$tmp/g1.png" "$tmp/g2.png" "$tmp/g3.png" "$out/gif/animated-full.gif"
ex "-XMP-dc:Creator=Alice Example" "-XMP-photoshop:City=Paris" "-Comment=Alice Example lives at 12 rue Example" \
   "$out/gif/animated-full.gif"
printf 'TRAILER: Alice Example\n' >> "$out/gif/animated-full.gif"
convert "$tmp/g1.png" -colors 16 GIF87:"$out/gif/still-87a.gif"
printf 'TRAILER: Alice Example\n' >> "$out/gif/still-87a.gif"
fi

du -ab "$out" | sort -k2

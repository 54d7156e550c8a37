#!/usr/bin/env bash
# Makes the image corpus for the exif-strip tests (tests/data/images): small real JPEG, PNG and
# WebP files carrying every kind of metadata the stripper must remove (EXIF with GPS, a Nikon
# maker note with a serial number, XMP, IPTC, comments, an EXIF thumbnail, PNG text/eXIf/tIME
# chunks, WebP EXIF/XMP chunks, data after the end marker) plus the parts it must keep (an ICC
# profile, the Adobe APP14 marker, restart markers, palette transparency).
# Uses Debian's imagemagick, libimage-exiftool-perl, webp, libjpeg-turbo-progs, icc-profiles-free.
# The committed files are the reference; re-running gives equivalent (not byte-identical) files.
# Usage: scripts/make-image-corpus.sh [OUT_DIR]   (default tests/data/images)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-tests/data/images}
icc=/usr/share/color/icc/sRGB.icc
for tool in convert exiftool cwebp cjpeg img2webp; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run scripts/setup.sh" >&2; exit 1; }
done
[ -r "$icc" ] || { echo "missing $icc (icc-profiles-free)" >&2; exit 1; }
mkdir -p "$out/jpeg" "$out/png" "$out/webp"
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
jpeg_full "$out/jpeg/baseline-full.jpg"
jpeg_full "$out/jpeg/progressive-full.jpg" -progressive
jpeg_full "$out/jpeg/restart-markers.jpg" -restart 2 -optimize

# CMYK with an Adobe APP14 marker (needed to decode it) plus EXIF and XMP.
convert "$tmp/photo.ppm" -resize 160x120 -colorspace CMYK -quality 80 "$out/jpeg/cmyk-adobe.jpg"
ex "${exif_args[@]}" "${xmp_args[@]}" "$out/jpeg/cmyk-adobe.jpg"

# Greyscale, no metadata at all: the stripper must leave the image data alone.
cjpeg -quality 75 -grayscale "$tmp/photo.ppm" > "$out/jpeg/gray-plain.jpg"

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

du -ab "$out" | sort -k2

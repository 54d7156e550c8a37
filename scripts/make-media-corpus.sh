#!/usr/bin/env bash
# Makes the ISO BMFF corpus for the exif-strip tests (tests/data/media): small real HEIC, AVIF,
# MP4, MOV and M4A files carrying the metadata a phone writes (EXIF with GPS, author, camera,
# dates and a maker note; XMP; thumbnails; QuickTime user data with ©xyz, Keys with
# com.apple.quicktime.location.ISO6709, iTunes-style title/artist/comment; XMP uuid boxes)
# plus what the stripper must keep (ICC profile, alpha plane, rotation, every frame and sample).
# Uses Debian's libheif-examples (heif-enc), ffmpeg, imagemagick and libimage-exiftool-perl, and
# the JPEG of tests/data/images as the EXIF source. The committed files are the reference;
# re-running gives equivalent (not byte-identical) files.
# Usage: scripts/make-media-corpus.sh [OUT_DIR]   (default tests/data/media)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-tests/data/media}
for tool in convert exiftool heif-enc ffmpeg; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run scripts/setup.sh" >&2; exit 1; }
done
mkdir -p "$out/heif" "$out/avif" "$out/mp4" "$out/mov" "$out/m4a"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
ex() { exiftool -q -q -overwrite_original "$@"; }
camera_jpeg=tests/data/images/jpeg/baseline-full.jpg   # EXIF+GPS+maker note+XMP+ICC, orientation 6

# HEIC as libheif writes it from a camera JPEG: Exif and XMP items, a thumbnail (a grid of
# tiles), ICC profile, rotation from the EXIF orientation.
heif-enc -q 40 -t 64 "$camera_jpeg" -o "$out/heif/camera-thumbnail.heic" >/dev/null
# HEIC with alpha: the thumbnail has an alpha plane of its own ('auxl' to the thumbnail).
convert "$camera_jpeg" -resize 96x72 -alpha set -channel A -evaluate set 60% +channel "$tmp/alpha.png"
heif-enc -q 40 -t 32 "$tmp/alpha.png" -o "$out/heif/alpha-thumbnail.heic" >/dev/null
ex "-Artist=Alice Example" -GPSLatitude=48.858370 -GPSLatitudeRef=N -GPSLongitude=2.294481 -GPSLongitudeRef=E \
   "-XMP-dc:Creator=Alice Example" "-XMP-photoshop:City=Paris" "$out/heif/alpha-thumbnail.heic"
# HEIC as ImageMagick writes it, then metadata added by exiftool (its own item layout).
convert "$camera_jpeg" -strip -resize 160x120 -quality 40 "$out/heif/exiftool-items.heic"
ex -Make=Apple "-Model=iPhone 15 Pro" "-Artist=Alice Example" "-DateTimeOriginal=2026:05:01 12:34:56" \
   -GPSLatitude=48.858370 -GPSLatitudeRef=N -GPSLongitude=2.294481 -GPSLongitudeRef=E "-UserComment=Our flat" \
   "-XMP-dc:Creator=Alice Example" "-XMP-photoshop:City=Paris" -Orientation#=6 "$out/heif/exiftool-items.heic"

# AVIF (AV1 in HEIF) with Exif, XMP and a thumbnail.
heif-enc -A -q 40 -t 64 "$camera_jpeg" -o "$out/avif/camera-thumbnail.avif" >/dev/null

# Video and audio as phones and ffmpeg write them: QuickTime/iTunes tags, location, times.
meta=(-metadata "title=Our flat, 3rd floor" -metadata "artist=Alice Example" -metadata "comment=Shot by Alice at home"
      -metadata "location=+48.8584+002.2945/" -metadata "creation_time=2026-05-01T12:34:56Z"
      -metadata "make=Apple" -metadata "model=iPhone 15 Pro")
video=(-f lavfi -i testsrc=size=128x96:rate=10 -f lavfi -i sine=frequency=440:sample_rate=16000 -t 1
       -c:v libx264 -preset ultrafast -crf 35 -c:a aac -b:a 32k -fflags +bitexact)
ff() { ffmpeg -v error -y "$@"; }
ff "${video[@]}" "${meta[@]}" -movflags +use_metadata_tags "$out/mp4/camera.mp4"               # moov after mdat
ff "${video[@]}" "${meta[@]}" -metadata "com.apple.quicktime.location.ISO6709=+48.8584+002.2945+035.000/" \
   -movflags +use_metadata_tags+faststart "$out/mov/iphone-keys.mov"                             # moov first
# A timecode track (the time of day as its sample) whose sample description names the reel.
ff "${video[@]}" "${meta[@]}" -timecode 14:32:11:00 -metadata:s:v:0 "reel_name=Alice MacBook" \
   -movflags +use_metadata_tags "$out/mov/timecode-reel.mov"
ff "${video[@]}" "${meta[@]}" -g 5 -movflags +use_metadata_tags+frag_keyframe+empty_moov \
   "$out/mp4/fragmented.mp4"                                                                     # moof/mdat pairs, mfra
ff -f lavfi -i sine=frequency=440:sample_rate=16000 -t 1 -c:a aac -b:a 32k -fflags +bitexact "${meta[@]}" \
   "$out/m4a/voice-memo.m4a"
for f in "$out/mp4/camera.mp4" "$out/mov/iphone-keys.mov" "$out/mov/timecode-reel.mov" "$out/m4a/voice-memo.m4a"; do
  ex "-XMP-dc:Creator=Alice Example" "-XMP-photoshop:City=Paris" -XMP-exif:GPSLatitude=48.858370 \
     -XMP-exif:GPSLongitude=2.294481 "-UserData:GPSCoordinates=48.8584, 2.2945, 35" "-Keys:Author=Alice Example" "$f"
done
# A TTML subtitle track (ISO/IEC 14496-30, handler 'subt') whose text says where it was shot,
# added to the tagged camera.mp4 (its metadata copied).
printf '1\n00:00:00,000 --> 00:00:01,000\nGPS 48.858370 N 2.294481 E  Alice Example home\n' >"$tmp/where.srt"
ff -i "$out/mp4/camera.mp4" -i "$tmp/where.srt" -map 0 -map 1 -c copy -c:s ttml -map_metadata 0 \
   "$out/mp4/ttml-subtitles.mp4"
ls -l "$out"/*/*

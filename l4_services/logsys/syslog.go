package logsys

import (
	"net"
	"time"
)

// DevLog is where glibc's syslog(3) sends, and so where corosync's syslog lines go.
const DevLog = "/dev/log"

// dialDevLog connects a datagram socket to /dev/log, as glibc does on the first syslog().
func dialDevLog() (net.Conn, error) { return net.Dial("unixgram", DevLog) }

// syslogWriteTimeout bounds a send to a syslog daemon that has stopped reading, which
// would otherwise block logging (glibc blocks; corosync logs from a thread of its own).
const syslogWriteTimeout = time.Second

// syslogSender is glibc's connection handling: connect lazily, and on a failed send
// reconnect and send once more, then drop the message silently.
type syslogSender struct {
	dial func() (net.Conn, error)
	conn net.Conn
}

func (s *syslogSender) send(msg []byte) error {
	for attempt := 0; attempt < 2; attempt++ {
		if s.conn == nil {
			c, err := s.dial()
			if err != nil {
				return err
			}
			s.conn = c
		}
		s.conn.SetWriteDeadline(time.Now().Add(syslogWriteTimeout))
		_, err := s.conn.Write(msg)
		if err == nil {
			return nil
		}
		s.close()
		if attempt == 1 {
			return err
		}
	}
	return nil
}

func (s *syslogSender) close() error {
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	return err
}

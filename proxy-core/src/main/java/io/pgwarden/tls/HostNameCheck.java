package io.pgwarden.tls;

import io.netty.util.NetUtil;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * libpq's verify-full name check: the host (or server_name) must be among the certificate's subject alternative
 * names, DNS names with a wildcard allowed in the leftmost label, IP addresses compared as addresses. The common name
 * counts only when the certificate has no name of the host's kind, as libpq allows and RFC 6125 tolerates.
 */
final class HostNameCheck {

    private static final int SAN_DNS = 2;
    private static final int SAN_IP = 7;

    private HostNameCheck() {
    }

    static void check(X509Certificate certificate, String host) throws ServerCertificateException {
        if (host == null || host.isEmpty()) {
            throw new ServerCertificateException("host name mismatch: there is no host name to check the server "
                    + "certificate against; set server.tls.server_name");
        }
        List<String> dnsNames = new ArrayList<>();
        List<String> ipAddresses = new ArrayList<>();
        try {
            Collection<List<?>> alternatives = certificate.getSubjectAlternativeNames();
            if (alternatives != null) {
                for (List<?> entry : alternatives) {
                    int type = (Integer) entry.get(0);
                    if (type == SAN_DNS) {
                        dnsNames.add((String) entry.get(1));
                    } else if (type == SAN_IP) {
                        ipAddresses.add((String) entry.get(1));
                    }
                }
            }
        } catch (CertificateParsingException e) {
            throw new ServerCertificateException("host name mismatch: the server certificate's subject alternative "
                    + "names cannot be read: " + e.getMessage(), e);
        }
        byte[] hostAddress = NetUtil.createByteArrayFromIpAddressString(host);
        boolean matches;
        if (hostAddress != null) {
            matches = ipAddresses.stream().anyMatch(ip -> Arrays.equals(hostAddress,
                    NetUtil.createByteArrayFromIpAddressString(ip)));
            if (!matches && ipAddresses.isEmpty() && dnsNames.isEmpty()) {
                matches = host.equals(commonName(certificate));
            }
        } else {
            matches = dnsNames.stream().anyMatch(name -> dnsMatches(name, host));
            if (!matches && dnsNames.isEmpty()) {
                String cn = commonName(certificate);
                matches = cn != null && dnsMatches(cn, host);
            }
        }
        if (!matches) {
            List<String> listed = new ArrayList<>(dnsNames);
            listed.addAll(ipAddresses);
            String names = listed.isEmpty() ? "no subject alternative names (common name \""
                    + commonName(certificate) + "\")" : "the names " + listed;
            String hint = hostAddress != null && ipAddresses.isEmpty()
                    ? "; it lists no IP address, so set server.tls.server_name to one of its names" : "";
            throw new ServerCertificateException("host name mismatch: the server certificate is not valid for \""
                    + host + "\"; it has " + names + hint);
        }
    }

    private static boolean dnsMatches(String pattern, String host) {
        String p = trimDot(pattern.toLowerCase(Locale.ROOT));
        String h = trimDot(host.toLowerCase(Locale.ROOT));
        if (!p.startsWith("*.")) {
            return p.equals(h);
        }
        // The wildcard stands for exactly one label, never for a dot: *.example.com is not example.com.
        int dot = h.indexOf('.');
        return dot > 0 && h.substring(dot).equals(p.substring(1));
    }

    private static String trimDot(String name) {
        return name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
    }

    private static String commonName(X509Certificate certificate) {
        try {
            List<Rdn> rdns = new LdapName(certificate.getSubjectX500Principal().getName()).getRdns();
            for (int i = rdns.size() - 1; i >= 0; i--) {
                if (rdns.get(i).getType().equalsIgnoreCase("CN")) {
                    return String.valueOf(rdns.get(i).getValue());
                }
            }
        } catch (InvalidNameException e) {
            // No usable common name: only the subject alternative names count.
        }
        return null;
    }
}

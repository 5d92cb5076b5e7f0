using System.Net;
using VqaApi.Api.Inputs;

namespace VqaApi.Api.Tests;

/// <summary>The SSRF guard's address classification, including the IPv6 forms that carry an IPv4 address.</summary>
public sealed class AddressGuardTests
{
    [Theory]
    [InlineData("127.0.0.1")] [InlineData("10.1.2.3")] [InlineData("172.16.0.1")] [InlineData("192.168.1.1")] [InlineData("169.254.169.254")]
    [InlineData("100.64.0.1")] [InlineData("0.0.0.0")] [InlineData("224.0.0.1")] [InlineData("255.255.255.255")] [InlineData("192.0.2.10")]
    [InlineData("::1")] [InlineData("::")] [InlineData("fe80::1")] [InlineData("fd00::1")] [InlineData("ff02::1")]
    [InlineData("::ffff:127.0.0.1")] [InlineData("::ffff:10.0.0.1")]
    [InlineData("::127.0.0.1")] [InlineData("::10.0.0.1")] [InlineData("::8.8.8.8")]          // IPv4-compatible (deprecated)
    [InlineData("64:ff9b::7f00:1")] [InlineData("64:ff9b::a9fe:a9fe")] [InlineData("64:ff9b::10.0.0.1")] // NAT64 of loopback, metadata, private
    [InlineData("64:ff9b:1::1")]                                                               // local-use NAT64
    [InlineData("2002:7f00:1::1")] [InlineData("2002:a9fe:a9fe::1")] [InlineData("2002:c0a8:101::")] // 6to4 of loopback, metadata, private
    [InlineData("2001:0:4136:e378:8000:63bf:80ff:fffe")]                                       // Teredo, client 127.0.0.1 (inverted bits)
    [InlineData("2001:0:a00:1::1")]                                                            // Teredo, server 10.0.0.1
    [InlineData("2001:db8::1")] [InlineData("100::1")]
    public void Refuses(string address) => Assert.True(AddressGuard.IsBlocked(IPAddress.Parse(address)), address);

    [Theory]
    [InlineData("8.8.8.8")] [InlineData("1.1.1.1")] [InlineData("93.184.216.34")] [InlineData("172.32.0.1")] [InlineData("100.128.0.1")]
    [InlineData("2606:4700:4700::1111")] [InlineData("64:ff9b::808:808")] [InlineData("2002:808:808::1")] [InlineData("::ffff:8.8.8.8")]
    [InlineData("2001:0:4136:e378:8000:63bf:f7f7:f7f7")]                                       // Teredo with public server and client
    public void Allows(string address) => Assert.False(AddressGuard.IsBlocked(IPAddress.Parse(address)), address);

    [Fact]
    public void The_hosts_own_addresses_are_refused()
    {
        var own = System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(n => n.GetIPProperties().UnicastAddresses).Select(a => a.Address).ToList();
        Assert.NotEmpty(own);
        Assert.All(own, a => Assert.True(AddressGuard.IsBlocked(a), a.ToString()));
    }
}
